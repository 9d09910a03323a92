/** A number input that lets the user type freely, commits valid values only, and says when the text is invalid. */
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
  /** Shown under the field while its text is invalid (what a valid value is). */
  readonly rule: string;
  readonly onChange: (v: number) => void;
  /** Called with true while the (enabled) field shows invalid text, false once it does not. */
  readonly onInvalid?: (invalid: boolean) => void;
}

export function NumberField({ testId, label, value, min, max, step = 1, integer = true, disabled = false, rule, onChange, onInvalid }: Props) {
  // What the user is typing, tied to the value it was typed against: once the value changes from
  // elsewhere (undo, re-using a gallery item) the field shows the new value in the same render,
  // not one effect later. Invalid text stays (red, with the rule) until it is fixed: reverting it
  // on blur would let Generate run with a value the user did not see.
  const [draft, setDraft] = useState<{ readonly text: string; readonly base: number } | null>(null);
  const text = draft !== null && draft.base === value ? draft.text : String(value);
  // Drop a draft the value has moved away from, so that it cannot come back when the value returns.
  useEffect(() => {
    setDraft((d) => (d !== null && d.base !== value ? null : d));
  }, [value]);
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
  const blocking = invalid && !disabled;
  useEffect(() => {
    onInvalid?.(blocking);
    return () => onInvalid?.(false);
    // onInvalid is re-created on every render of the parent; only a change of state needs reporting.
  }, [blocking]);
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
        onBlur={() => { if (!invalid) setDraft(null); }}
      />
      {blocking && <span className="field-error" role="alert" data-testid={`${testId}-error`}>{rule}</span>}
    </label>
  );
}
