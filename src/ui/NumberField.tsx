/** A number input that lets the user type freely and commits valid values only. */
import { useState } from 'react';

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
  // What the user is typing, tied to the value it was typed against: once the value changes from
  // elsewhere (undo, re-using a gallery item) the field shows the new value in the same render,
  // not one effect later.
  const [draft, setDraft] = useState<{ readonly text: string; readonly base: number } | null>(null);
  const text = draft !== null && draft.base === value ? draft.text : String(value);
  const valid = (t: string): boolean => {
    const v = Number(t);
    return t.trim() !== '' && Number.isFinite(v) && v >= min && v <= max && (!integer || Number.isInteger(v));
  };
  const edit = (t: string): void => {
    if (valid(t)) {
      setDraft({ text: t, base: Number(t) });
      onChange(Number(t));
    } else {
      setDraft({ text: t, base: value });
    }
  };
  const invalid = !valid(text);
  return (
    <label className="field">
      <span>{label}</span>
      <input
        data-testid={testId}
        type="number"
        inputMode={integer ? 'numeric' : 'decimal'}
        value={text}
        min={min}
        max={max}
        step={step}
        disabled={disabled}
        aria-invalid={invalid}
        title={`${min}–${max}`}
        onChange={(e) => edit(e.target.value)}
        onBlur={() => setDraft(null)}
      />
    </label>
  );
}
