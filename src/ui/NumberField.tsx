/** A number input that lets the user type freely and commits valid values only. */
import { useEffect, useState } from 'react';

interface Props {
  readonly testId: string;
  readonly label: string;
  readonly value: number;
  readonly min: number;
  readonly max: number;
  readonly step?: number;
  readonly integer?: boolean;
  readonly disabled?: boolean;
  readonly onChange: (v: number) => void;
}

export function NumberField({ testId, label, value, min, max, step = 1, integer = true, disabled = false, onChange }: Props) {
  const [draft, setDraft] = useState(String(value));
  useEffect(() => setDraft(String(value)), [value]);
  const commit = (text: string): void => {
    const v = Number(text);
    if (text.trim() !== '' && Number.isFinite(v) && v >= min && v <= max && (!integer || Number.isInteger(v))) onChange(v);
  };
  const invalid = draft.trim() === '' || !Number.isFinite(Number(draft)) || Number(draft) < min || Number(draft) > max || (integer && !Number.isInteger(Number(draft)));
  return (
    <label className="field">
      <span>{label}</span>
      <input
        data-testid={testId}
        type="number"
        inputMode={integer ? 'numeric' : 'decimal'}
        value={draft}
        min={min}
        max={max}
        step={step}
        disabled={disabled}
        aria-invalid={invalid}
        title={`${min}–${max}`}
        onChange={(e) => { setDraft(e.target.value); commit(e.target.value); }}
        onBlur={() => setDraft(String(value))}
      />
    </label>
  );
}
