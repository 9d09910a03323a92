/** Past results with their parameters; one click re-uses them. */
import { useEffect, useMemo } from 'react';
import { formatParameters } from '../editor/parameters.ts';
import type { GalleryItem } from '../app/store.ts';
import { useApp, useController, useT } from './hooks.ts';
import { Icon } from './icons.tsx';
import { resultLabel } from '../modes/label.ts';

function Thumb({ item, alt }: { item: GalleryItem; alt: string }) {
  const url = useMemo(() => URL.createObjectURL(new Blob([item.png as Uint8Array<ArrayBuffer>], { type: 'image/png' })), [item.png]);
  useEffect(() => () => URL.revokeObjectURL(url), [url]);
  return <img src={url} alt={alt} width={item.width} height={item.height} />;
}

export function Gallery() {
  const c = useController();
  const t = useT();
  const items = useApp((s) => s.gallery);
  const language = useApp((s) => s.language);
  return (
    <section className="gallery" data-testid="gallery" aria-label={t('gallery')}>
      <h2>{t('gallery')} <span className="count">{items.length}</span></h2>
      {items.length === 0 && <p className="empty">{t('galleryEmpty')}</p>}
      <ul>
        {[...items].reverse().map((item) => (
          <li key={item.id} data-testid="gallery-item" data-id={item.id} title={formatParameters(item.params)}>
            <button type="button" className="thumb" data-testid="gallery-reuse" onClick={() => c.gallery.reuse(item.id)} title={`${t('reuse')}\n\n${formatParameters(item.params)}`}>
              <Thumb item={item} alt={resultLabel(item.params, language)} />
            </button>
            <div className="meta">
              <span className="prompt" data-testid="gallery-label">{resultLabel(item.params, language)}</span>
              <span className="sub">{item.params.width}×{item.params.height} · {t('stepsValue', { steps: item.params.steps })} · {t('seedValue', { seed: item.params.seed })}</span>
            </div>
            <div className="item-actions">
              <button type="button" data-testid="gallery-place" onClick={() => void c.gallery.place(item.id)} title={t('place')}><Icon name="place" size={14} /></button>
              <button type="button" onClick={() => c.gallery.download(item.id)} title={t('download')}><Icon name="download" size={14} /></button>
              <button type="button" onClick={() => void c.gallery.remove(item.id)} title={t('remove')}><Icon name="trash" size={14} /></button>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
