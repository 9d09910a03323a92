/** Messages to the user: errors stay until closed, the rest fade after a few seconds. */
import { useEffect } from 'react';
import { dismiss } from '../app/store.ts';
import { useApp, useController, useT } from './hooks.ts';

export function Notices() {
  const c = useController();
  const t = useT();
  const notices = useApp((s) => s.notices);
  useEffect(() => {
    const timers = notices.filter((n) => n.kind !== 'error').map((n) => setTimeout(() => dismiss(c.store, n.id), n.kind === 'warning' ? 12_000 : 5_000));
    return () => { for (const x of timers) clearTimeout(x); };
  }, [notices, c]);
  return (
    <div className="notices" aria-live="polite">
      {notices.map((n) => (
        <div key={n.id} className={`notice ${n.kind}`} data-testid="notice" data-kind={n.kind} data-key={n.key} role={n.kind === 'error' ? 'alert' : 'status'}>
          <span>{t(n.key, n.vars)}</span>
          <button type="button" aria-label={t('close')} onClick={() => dismiss(c.store, n.id)}>×</button>
        </div>
      ))}
    </div>
  );
}
