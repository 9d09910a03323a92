/** Turning a picked folder (File System Access API or `<input webkitdirectory>`) into FolderFile entries. */
import type { FolderFile } from '../../workers/storage/protocol.ts';

/** A picked folder: its name and its files with paths relative to it. */
export interface PickedFolder {
  readonly label: string;
  readonly files: readonly FolderFile[];
}

/** Files from `<input webkitdirectory>`: webkitRelativePath starts with the folder's own name. */
export function folderFromFileList(list: Iterable<File>): PickedFolder {
  const files: FolderFile[] = [];
  let label = '';
  for (const file of list) {
    const rel = file.webkitRelativePath || file.name;
    const slash = rel.indexOf('/');
    if (label === '' && slash > 0) label = rel.slice(0, slash);
    files.push({ path: slash > 0 ? rel.slice(slash + 1) : rel, file });
  }
  return { label: label || 'local folder', files };
}

type DirHandle = FileSystemDirectoryHandle & { values(): AsyncIterable<FileSystemHandle> };

/** Walk a directory handle (File System Access API); File objects are references, nothing is read yet. */
export async function folderFromHandle(dir: FileSystemDirectoryHandle): Promise<PickedFolder> {
  const files: FolderFile[] = [];
  const walk = async (d: DirHandle, prefix: string): Promise<void> => {
    for await (const entry of d.values()) {
      if (entry.kind === 'file') files.push({ path: prefix + entry.name, file: await (entry as FileSystemFileHandle).getFile() });
      else await walk(entry as DirHandle, `${prefix}${entry.name}/`);
    }
  };
  await walk(dir as DirHandle, '');
  return { label: dir.name, files };
}

/** The File System Access folder picker where the browser has one, else null (use the input). */
export function directoryPicker(): (() => Promise<FileSystemDirectoryHandle>) | null {
  const w = globalThis as unknown as { showDirectoryPicker?: (o?: { mode?: 'read' }) => Promise<FileSystemDirectoryHandle> };
  return typeof w.showDirectoryPicker === 'function' ? () => w.showDirectoryPicker!({ mode: 'read' }) : null;
}
