/** Sugar's logic hook events on records (include/utils/LogicHook.php, SugarBean). */
export type RecordEvent =
  | 'before_save' | 'after_save'
  | 'before_delete' | 'after_delete'
  | 'before_restore' | 'after_restore'
  | 'after_retrieve' | 'process_record'
  | 'before_relationship_add' | 'after_relationship_add'
  | 'before_relationship_delete' | 'after_relationship_delete';

/**
 * The record a hook receives, like Sugar's $bean: field values as properties (before_save
 * hooks may change them), plus `module_dir`, `object_name` and `fetched_row` (the row as it was
 * before this save; null for a new record).
 */
export type Bean = Record<string, unknown> & {
  readonly module_dir: string;
  readonly object_name: string;
  readonly fetched_row: Readonly<Record<string, unknown>> | null;
};

/** Arguments by event, as Sugar passes them (plus Sugar 7's isUpdate/dataChanges on after_save). */
export interface HookArguments {
  before_save: { check_notify: boolean; isUpdate: boolean; /** Fields the caller submitted. */ submitted: string[] };
  after_save: { isUpdate: boolean; dataChanges: Record<string, { field_name: string; data_type: string; before: unknown; after: unknown }> };
  before_delete: { id: string };
  after_delete: { id: string };
  before_restore: { id: string };
  after_restore: { id: string };
  after_retrieve: { id: string; encode: boolean };
  process_record: null;
  before_relationship_add: RelationshipHookArguments;
  after_relationship_add: RelationshipHookArguments;
  before_relationship_delete: RelationshipHookArguments;
  after_relationship_delete: RelationshipHookArguments;
}

export interface RelationshipHookArguments {
  id: string;
  related_id: string;
  module: string;
  related_module: string;
  link: string;
  relationship: string;
}

export type HookHandler<E extends RecordEvent = RecordEvent> = (bean: Bean, event: E, args: HookArguments[E]) => void | Promise<void>;

/** One entry of $hook_array[event][]: array(order, label, file, class, method) becomes {order, label, handler}. */
export interface HookDefinition<E extends RecordEvent = RecordEvent> {
  event: E;
  order: number;
  label: string;
  handler: HookHandler<E>;
}
