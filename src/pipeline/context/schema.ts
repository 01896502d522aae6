import { z } from 'zod';

/** A top-level function or class as python/repo_map.py prints it; a class's methods sit one level down. */
export interface MapSymbol {
  readonly kind: 'def' | 'async def' | 'class';
  readonly name: string;
  /** `(a, b: int = 1) -> str` for a function, `(Base, metaclass=M)` or '' for a class. */
  readonly signature: string;
  /** The docstring's first line. */
  readonly doc: string | null;
  readonly methods: readonly MapSymbol[];
}

const SymbolSchema: z.ZodType<MapSymbol> = z.object({
  kind: z.enum(['def', 'async def', 'class']),
  name: z.string(),
  signature: z.string(),
  doc: z.string().nullable(),
  methods: z.array(z.lazy(() => SymbolSchema)),
});

/** One module as python/repo_map.py prints it, in the order the files were given (so without its path). */
const ParsedModuleSchema = z.object({
  /** Why the file does not parse (`line 3: invalid syntax`); null when it does. */
  error: z.string().nullable(),
  doc: z.string().nullable(),
  symbols: z.array(SymbolSchema),
});
export type MapModule = z.infer<typeof ParsedModuleSchema> & { readonly path: string };

/** What python/repo_map.py prints on stdout. */
export const RepoMapOutputSchema = z.object({ modules: z.array(ParsedModuleSchema) });
