import { gzipSync } from 'node:zlib';
import { Header, Pax } from 'tar';

/** A tar.gz as GitHub's codeload sends it: a global pax header naming the commit, then folders and files. */
export function buildTarball(top: string, files: ReadonlyMap<string, string>, sha: string, mtime: Date): Buffer {
  const blocks: Buffer[] = [new Pax({ comment: sha, path: 'pax_global_header' }, true).encode()];
  const entry = (path: string, type: 'Directory' | 'File', content?: Buffer) => {
    const header = new Header({ path, type, mode: type === 'File' ? 0o644 : 0o755, size: content?.length ?? 0, mtime, uid: 0, gid: 0, uname: 'root', gname: 'root' });
    if (header.encode()) blocks.push(new Pax({ path, size: content?.length ?? 0, mtime }).encode());
    blocks.push(header.block!);
    if (content) blocks.push(content, Buffer.alloc((512 - (content.length % 512)) % 512));
  };
  const folders = new Set<string>();
  entry(`${top}/`, 'Directory');
  for (const path of [...files.keys()].sort()) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const folder = parts.slice(0, i).join('/');
      if (!folders.has(folder)) {
        folders.add(folder);
        entry(`${top}/${folder}/`, 'Directory');
      }
    }
    entry(`${top}/${path}`, 'File', Buffer.from(files.get(path)!));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}
