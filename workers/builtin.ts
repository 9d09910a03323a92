/**
 * The bundles shipped in public/models/ and which one the app loads as its built-in model.
 * The default is the trained micro model (issue 11); `VITE_BUILTIN_MODEL=tiny-kandinsky-2-2` at build or
 * dev-server start (the e2e suite sets it) pins the random tiny bundle, which stays for parity and goldens.
 */
export const BUILTIN_BUNDLES = ['micro-kandinsky-2-2', 'tiny-kandinsky-2-2'] as const;
/** Folder name of a shipped bundle under public/models/. */
export type BuiltinBundle = (typeof BUILTIN_BUNDLES)[number];

function chosen(value: unknown): BuiltinBundle {
  return BUILTIN_BUNDLES.find((b) => b === value) ?? BUILTIN_BUNDLES[0];
}

const name = chosen((import.meta.env as Record<string, unknown> | undefined)?.VITE_BUILTIN_MODEL);

/** The built-in model: its name and its path relative to the app's base URL. */
export const BUILTIN_MODEL = { name, path: `models/${name}/` } as const;
