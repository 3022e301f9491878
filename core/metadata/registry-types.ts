import type { Dictionary, FieldDef, IndexDef, ModuleViews, RelationshipMeta } from './types';

/** A relationship as declared, with its name and the file it came from. */
export interface RelationshipDef extends RelationshipMeta {
  name: string;
  file: string;
  lhs_key: string;
  rhs_key: string;
  lhs_table: string;
  rhs_table: string;
  /** Extra join-table columns exposed as relationship fields (e.g. contact_role). */
  relFields: string[];
}

/** A link field resolved against its relationship: which side the record is on and what it reaches. */
export interface LinkDef {
  name: string;
  relationship: RelationshipDef;
  /** The side of the relationship the owning record is on. */
  side: 'lhs' | 'rhs';
  /** The module on the other side. */
  module: string;
  /** True when the owning record relates to at most one record through this link. */
  one: boolean;
}

/** A physical table to create: a module's, its audit table, or a join table. */
export interface TableDef {
  name: string;
  kind: 'module' | 'audit' | 'join' | 'table' | 'custom';
  module?: string;
  fields: FieldDef[];
  indices: IndexDef[];
  file: string;
}

export interface ModuleDef {
  /** Module (folder) name, e.g. 'Accounts'. */
  name: string;
  /** $dictionary key / bean name, e.g. 'Account'. */
  objectName: string;
  table: string;
  audited: boolean;
  optimisticLocking: boolean;
  /** Records are never changed or deleted; `writers` may create them through the record service (null: not append-only). */
  appendOnly: { writers: readonly string[] } | null;
  fields: Readonly<Record<string, FieldDef>>;
  /** Stored (column) fields in column order, custom fields included. */
  columns: readonly string[];
  /** `<table>_cstm`, where the custom fields (source custom_fields) live keyed by id_c; null when the module has none. */
  customTable: string | null;
  /** The columns of `columns` that live in customTable. */
  customColumns: readonly string[];
  links: Readonly<Record<string, LinkDef>>;
  indices: readonly IndexDef[];
  views: ModuleViews;
  /** $mod_strings after template, module and custom layers. */
  strings: Readonly<Record<string, string>>;
  /** The merged dictionary, as Sugar's cache would hold it. */
  dictionary: Dictionary;
  file: string;
  /** Came only from the overlay folder. */
  custom: boolean;
}
