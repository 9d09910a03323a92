/** Messages to the user: errors stay until closed, the rest fade after a few seconds. */
import { useEffect } from 'react';
import { dismiss, type Notice } from '../app/store.ts';
import { useApp, useController, useT } from './hooks.ts';

/** How long a message stays, from when it appeared (errors: until closed). */
const LIFETIME_MS = { error: null, warning: 12_000, info: 5_000 } as const satisfies Record<Notice['kind'], number | null>;

function NoticeItem({ n }: { n: Notice }) {
  const c = useController();
  const t = useT();
  // One timer per message, started when it appears: newer messages do not keep older ones alive.
  useEffect(() => {
    const ms = LIFETIME_MS[n.kind];
    if (ms === null) return undefined;
    const timer = setTimeout(() => dismiss(c.store, n.id), ms);
    return () => clearTimeout(timer);
  }, [n.id, n.kind, c]);
  return (
    <div className={`notice ${n.kind}`} data-testid="notice" data-kind={n.kind} data-key={n.key} role={n.kind === 'error' ? 'alert' : 'status'}>
      <span>{t(n.key, n.vars)}</span>
      {n.action && <button type="button" className="notice-action" data-testid="notice-action" onClick={n.action.run}>{t(n.action.label)}</button>}
      <button type="button" aria-label={t('close')} onClick={() => dismiss(c.store, n.id)}>×</button>
    </div>
  );
}

export function Notices() {
  const notices = useApp((s) => s.notices);
  return (
    <div className="notices" aria-live="polite">
      {notices.map((n) => <NoticeItem key={n.id} n={n} />)}
    </div>
  );
}
