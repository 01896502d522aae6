import type { SecurityLevel } from '../../config/schema.js';

/**
 * Bandit's documented severity for each of Ruff's flake8-bandit rules (Ruff's `S<n>` is bandit's `B<n>`).
 * Ruff does not carry the severity itself, and `security.fail_on` is expressed in bandit's levels.
 * Where bandit's level depends on the call (a permission mask, a key size), the worse case is used.
 */
export const BANDIT_LEVELS: Readonly<Record<string, SecurityLevel>> = {
  S101: 'low', // assert_used
  S102: 'medium', // exec_used
  S103: 'high', // set_bad_file_permissions (high when world-writable)
  S104: 'medium', // hardcoded_bind_all_interfaces
  S105: 'low', // hardcoded_password_string
  S106: 'low', // hardcoded_password_funcarg
  S107: 'low', // hardcoded_password_default
  S108: 'medium', // hardcoded_tmp_directory
  S110: 'low', // try_except_pass
  S112: 'low', // try_except_continue
  S113: 'medium', // request_without_timeout
  S201: 'high', // flask_debug_true
  S202: 'high', // tarfile_unsafe_members
  S301: 'medium', // pickle
  S302: 'medium', // marshal
  S303: 'medium', // md5 / sha1
  S304: 'high', // insecure cipher
  S305: 'medium', // insecure cipher mode (ECB)
  S306: 'medium', // mktemp_q
  S307: 'medium', // eval
  S308: 'medium', // mark_safe
  S310: 'medium', // urllib_urlopen
  S311: 'low', // random
  S312: 'high', // telnetlib
  S313: 'medium', // xml_bad_cElementTree
  S314: 'medium', // xml_bad_ElementTree
  S315: 'medium', // xml_bad_expatreader
  S316: 'medium', // xml_bad_expatbuilder
  S317: 'medium', // xml_bad_sax
  S318: 'medium', // xml_bad_minidom
  S319: 'medium', // xml_bad_pulldom
  S320: 'medium', // xml_bad_etree (lxml)
  S321: 'high', // ftplib
  S323: 'medium', // unverified_context
  S324: 'high', // hashlib_insecure_functions
  S401: 'high', // import_telnetlib
  S402: 'high', // import_ftplib
  S403: 'low', // import_pickle
  S404: 'low', // import_subprocess
  S405: 'low', // import_xml_etree
  S406: 'low', // import_xml_sax
  S407: 'low', // import_xml_expat
  S408: 'low', // import_xml_minidom
  S409: 'low', // import_xml_pulldom
  S410: 'low', // import_lxml
  S411: 'high', // import_xmlrpclib
  S412: 'high', // import_httpoxy
  S413: 'high', // import_pycrypto
  S415: 'high', // import_pyghmi
  S501: 'high', // request_with_no_cert_validation
  S502: 'high', // ssl_with_bad_version
  S503: 'medium', // ssl_with_bad_defaults
  S504: 'low', // ssl_with_no_version
  S505: 'high', // weak_cryptographic_key
  S506: 'medium', // yaml_load
  S507: 'high', // ssh_no_host_key_verification
  S508: 'medium', // snmp_insecure_version
  S509: 'medium', // snmp_weak_cryptography
  S601: 'medium', // paramiko_calls
  S602: 'high', // subprocess_popen_with_shell_equals_true
  S603: 'low', // subprocess_without_shell_equals_true
  S604: 'medium', // any_other_function_with_shell_equals_true
  S605: 'high', // start_process_with_a_shell
  S606: 'low', // start_process_with_no_shell
  S607: 'low', // start_process_with_partial_path
  S608: 'medium', // hardcoded_sql_expressions
  S609: 'high', // linux_commands_wildcard_injection
  S610: 'medium', // django_extra_used
  S611: 'medium', // django_rawsql_used
  S612: 'medium', // logging_config_insecure_listen
  S701: 'high', // jinja2_autoescape_false
  S702: 'medium', // use_of_mako_templates
  S704: 'medium', // markupsafe_markup_xss
};

const RANK: Record<SecurityLevel, number> = { low: 0, medium: 1, high: 2 };

/**
 * Bandit rates a shell command it can read as a literal string low ("seems safe") and anything else
 * high (possible injection); Ruff says which case it saw in the message of S602 and S605.
 */
export function banditLevel(code: string, message: string): SecurityLevel {
  if ((code === 'S602' || code === 'S605') && message.includes('seems safe')) return 'low';
  return BANDIT_LEVELS[code] ?? 'medium';
}

export function atLeast(level: SecurityLevel, threshold: SecurityLevel): boolean {
  return RANK[level] >= RANK[threshold];
}
