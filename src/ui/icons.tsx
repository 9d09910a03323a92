/** Small stroke icons (24×24 grid), drawn here so the UI does not depend on emoji fonts. */
import type { ReactElement } from 'react';

const PATHS = {
  pan: 'M8 12V5.5a1.5 1.5 0 0 1 3 0V11 M11 10.5V4a1.5 1.5 0 0 1 3 0v6.5 M14 10.5V5.5a1.5 1.5 0 0 1 3 0V12 M17 11.5a1.5 1.5 0 0 1 3 0V15a6 6 0 0 1-6 6h-1.5a6 6 0 0 1-4.8-2.4L4.3 14.2a1.5 1.5 0 0 1 2.3-1.9L8 14',
  frame: 'M4 8V4h4 M16 4h4v4 M20 16v4h-4 M8 20H4v-4 M10 4h4 M10 20h4 M4 10v4 M20 10v4',
  eraser: 'M4 18l9.5-9.5a2 2 0 0 1 2.8 0l3.2 3.2a2 2 0 0 1 0 2.8L14 20H8z M9 11l6 6 M8 20h12',
  mask: 'M14.5 4.5l5 5L11 18l-5-5z M6 13l-2 6 6-2 M4 21h8',
  move: 'M12 3v18 M3 12h18 M12 3l-3 3 M12 3l3 3 M12 21l-3-3 M12 21l3-3 M3 12l3-3 M3 12l3 3 M21 12l-3-3 M21 12l-3 3',
  zoomIn: 'M11 4a7 7 0 1 1 0 14a7 7 0 0 1 0-14z M16 16l4.5 4.5 M8 11h6 M11 8v6',
  zoomOut: 'M11 4a7 7 0 1 1 0 14a7 7 0 0 1 0-14z M16 16l4.5 4.5 M8 11h6',
  fit: 'M4 9V4h5 M15 4h5v5 M20 15v5h-5 M9 20H4v-5 M9 9h6v6H9z',
  open: 'M3 7a2 2 0 0 1 2-2h4l2 2h8a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z',
  save: 'M5 4h11l3 3v12a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1z M8 4v5h7V4 M8 20v-6h8v6',
  undo: 'M9 14L4 9l5-5 M4 9h10a6 6 0 0 1 0 12h-3',
  redo: 'M15 14l5-5-5-5 M20 9H10a6 6 0 0 0 0 12h3',
  check: 'M5 12.5l4.5 4.5L19 7.5',
  close: 'M6 6l12 12 M18 6L6 18',
  left: 'M15 5l-7 7 7 7',
  right: 'M9 5l7 7-7 7',
  trash: 'M4 7h16 M9 7V4h6v3 M6 7l1 13h10l1-13',
  download: 'M12 4v11 M7 10l5 5 5-5 M5 20h14',
  place: 'M4 4h16v16H4z M12 7v8 M8.5 11.5L12 15l3.5-3.5',
  sparkle: 'M12 3l2 6 6 2-6 2-2 6-2-6-6-2 6-2z',
} as const;

/** Icon names. */
export type IconName = keyof typeof PATHS;

/** An icon in the current text colour. */
export function Icon({ name, size = 18 }: { name: IconName; size?: number }): ReactElement {
  return (
    <svg className="icon" width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={1.7}
      strokeLinecap="round" strokeLinejoin="round" aria-hidden focusable="false">
      <path d={PATHS[name]} />
    </svg>
  );
}
