/** Left tool strip: tools with shortcuts in tooltips, brush settings, zoom. */
import { TOOL_IDS, TOOL_SHORTCUTS, EDITOR_SHORTCUTS, type ToolId } from '../editor/editor.ts';
import { BRUSH_LIMITS } from '../editor/brush.ts';
import type { MessageKey } from '../app/i18n.ts';
import { useController, useEditor, useT } from './hooks.ts';
import { Icon, type IconName } from './icons.tsx';

const TOOL_INFO = {
  pan: { icon: 'pan', label: 'toolPan' },
  frame: { icon: 'frame', label: 'toolFrame' },
  eraser: { icon: 'eraser', label: 'toolEraser' },
  mask: { icon: 'mask', label: 'toolMask' },
  move: { icon: 'move', label: 'toolMove' },
} as const satisfies Record<ToolId, { icon: IconName; label: MessageKey }>;

export function Toolbar() {
  const c = useController();
  const t = useT();
  const tool = useEditor((s) => s.tool);
  const zoom = useEditor((s) => s.camera.zoom);
  const brush = useEditor((s) => s.brush);
  return (
    <nav className="toolbar" aria-label={t('tools')}>
      {TOOL_IDS.map((id) => (
        <button
          key={id}
          type="button"
          data-testid={`tool-${id}`}
          className={tool === id ? 'tool active' : 'tool'}
          aria-pressed={tool === id}
          title={`${t(TOOL_INFO[id].label)} (${TOOL_SHORTCUTS[id]})`}
          onClick={() => c.editor.setTool(id)}
        >
          <Icon name={TOOL_INFO[id].icon} size={20} />
        </button>
      ))}
      <div className="sep" />
      {(tool === 'eraser' || tool === 'mask') && (
        <div className="brush">
          <label title={`${t('brushSize')} ([ ])`}>
            <span>{t('brushSize')}</span>
            <input data-testid="brush-size-input" type="range" min={BRUSH_LIMITS.minSize} max={256} value={brush.size}
              onChange={(e) => c.editor.setBrush({ size: Number(e.target.value) })} />
            <output>{brush.size}</output>
          </label>
          <label>
            <span>{t('brushHardness')}</span>
            <input data-testid="brush-hardness-input" type="range" min={0} max={100} value={Math.round(brush.hardness * 100)}
              onChange={(e) => c.editor.setBrush({ hardness: Number(e.target.value) / 100 })} />
            <output>{Math.round(brush.hardness * 100)}%</output>
          </label>
          {tool === 'mask' && (
            <button type="button" data-testid="clear-mask-button" onClick={() => c.editor.clearMask(c.editor.getFrame())}>{t('clearMask')}</button>
          )}
        </div>
      )}
      <div className="spacer" />
      <button type="button" className="tool" title={`${t('zoomIn')} (${EDITOR_SHORTCUTS.zoomIn})`} onClick={() => c.editor.zoomBy(1.25)}><Icon name="zoomIn" /></button>
      <span className="zoom" data-testid="zoom-level">{Math.round(zoom * 100)}%</span>
      <button type="button" className="tool" title={`${t('zoomOut')} (${EDITOR_SHORTCUTS.zoomOut})`} onClick={() => c.editor.zoomBy(0.8)}><Icon name="zoomOut" /></button>
      <button type="button" className="tool" data-testid="fit-button" title={`${t('fit')} (${EDITOR_SHORTCUTS.fit})`} onClick={() => c.editor.fitToContent()}><Icon name="fit" /></button>
    </nav>
  );
}
