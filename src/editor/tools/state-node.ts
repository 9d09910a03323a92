/**
 * Tools as small hierarchical state machines (after tldraw's StateNode): a node has an id,
 * child states, an initial child, and handlers. Events run on the active path from the
 * root down, so a parent can handle what all its children share.
 */
import type { Point } from '../geometry.ts';
import type { Editor } from '../editor.ts';

/** A pointer event in both coordinate spaces. */
export interface PointerInfo {
  /** Position in view (CSS) pixels, relative to the canvas element. */
  readonly screen: Point;
  /** Position in document pixels. */
  readonly doc: Point;
  readonly button: number;
  readonly pointerId: number;
  readonly pointerType: string;
  readonly shiftKey: boolean;
  readonly altKey: boolean;
  readonly ctrlKey: boolean;
}

/** A key event. */
export interface KeyInfo {
  readonly key: string;
  readonly code: string;
  readonly shiftKey: boolean;
  readonly altKey: boolean;
  readonly ctrlKey: boolean;
  readonly repeat: boolean;
}

/** Events a state can handle. */
export interface StateHandlers {
  onEnter?(info: unknown): void;
  onExit?(): void;
  onPointerDown?(info: PointerInfo): void;
  onPointerMove?(info: PointerInfo): void;
  onPointerUp?(info: PointerInfo): void;
  onKeyDown?(info: KeyInfo): void;
  onCancel?(): void;
}

type HandlerName = 'onPointerDown' | 'onPointerMove' | 'onPointerUp' | 'onKeyDown' | 'onCancel';

/** Constructor shape of child states. */
export type StateCtor = new (editor: Editor, parent: StateNode | null) => StateNode;

/** One node of the tool state tree. */
export abstract class StateNode {
  abstract readonly id: string;
  /** Child id entered with the node; none for leaves. */
  readonly initial: string | undefined = undefined;
  readonly children = new Map<string, StateNode>();
  current: StateNode | null = null;

  constructor(readonly editor: Editor, readonly parent: StateNode | null) {}

  /** Create the child states (call from a subclass constructor). */
  protected addChildren(...ctors: StateCtor[]): void {
    for (const C of ctors) {
      const child = new C(this.editor, this);
      this.children.set(child.id, child);
    }
  }

  /** Dotted path of the active leaf below (and including) this node, e.g. "eraser.erasing". */
  path(): string {
    return this.current ? `${this.id}.${this.current.path()}` : this.id;
  }

  /** Enter this node, then its initial child. */
  enter(info: unknown): void {
    this.onEnter?.(info);
    const first = this.initial ? this.children.get(this.initial) : undefined;
    this.current = first ?? null;
    first?.enter(info);
  }

  /** Exit the active child, then this node. */
  exit(): void {
    this.current?.exit();
    this.current = null;
    this.onExit?.();
  }

  /** Switch the active child of this node's parent to sibling `id` (or own child when root). */
  transition(id: string, info?: unknown): void {
    const host = this.parent ?? this;
    const next = host.children.get(id);
    if (!next) throw new Error(`state ${host.id}: no child "${id}" (children: ${[...host.children.keys()].join(', ')})`);
    host.current?.exit();
    host.current = next;
    next.enter(info);
    this.editor.statesChanged();
  }

  /** Run a handler on this node, then down the active path. */
  handle(name: HandlerName, info?: PointerInfo | KeyInfo): void {
    const own = this[name] as ((i?: PointerInfo | KeyInfo) => void) | undefined;
    const before = this.current;
    own?.call(this, info);
    // A handler that transitioned has already entered the new child; do not deliver twice.
    if (this.current && this.current === before) this.current.handle(name, info);
  }
}

// Every node has the optional handlers of StateHandlers (declaration merging: listed once, there).
export interface StateNode extends StateHandlers {}
