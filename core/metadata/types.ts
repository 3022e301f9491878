/** Shapes of Sugar metadata as Cane reads it (keys as in SugarCRM's PHP arrays). */

export interface FieldDef {
  name: string;
  type: string;
  vname?: string;
  dbType?: string;
  dbtype?: string;
  len?: number | string;
  /** Cane: a non-db count of live rows of `table` whose `key` is the record id. */
  cane_count?: { table: string; key: string };
  /** Cane: a non-db field backed by email_addresses / email_addr_bean_rel (email1, email2, email, email_opt_out, invalid_email). */
  cane_email?: 'primary' | 'secondary' | 'all' | 'opt_out' | 'invalid';
  precision?: number | string;
  required?: boolean | string | number;
  default?: unknown;
  source?: 'db' | 'non-db' | 'custom_fields';
  options?: string;
  audited?: boolean | string | number;
  massupdate?: boolean | string | number;
  isnull?: boolean | string;
  auto_increment?: boolean;
  link?: string | boolean;
  relationship?: string;
  module?: string;
  id_name?: string;
  rname?: string;
  link_type?: string;
  side?: 'left' | 'right';
  rel_fields?: Record<string, { type?: string; options?: string }>;
  db_concat_fields?: string[];
  sort_on?: string | string[];
  type_name?: string;
  parent_type?: string;
  validation?: { type: 'range'; min?: number | string; max?: number | string };
  min?: number | string;
  max?: number | string;
  readonly?: boolean | string;
  sensitive?: boolean;
  /** Cane: written only by Cane's own code (SMS delivery fields); see field.schema.json. */
  system_only?: boolean;
  [attribute: string]: unknown;
}

export interface IndexDef {
  name: string;
  type: 'primary' | 'index' | 'unique' | 'alternate_key' | 'foreign' | 'clustered' | 'fulltext';
  fields: string[];
}

export interface RelationshipMeta {
  lhs_module: string;
  lhs_table?: string;
  lhs_key?: string;
  rhs_module: string;
  rhs_table?: string;
  rhs_key?: string;
  relationship_type: 'one-to-many' | 'many-to-many' | 'one-to-one';
  join_table?: string;
  join_key_lhs?: string;
  join_key_rhs?: string;
  relationship_role_column?: string;
  relationship_role_column_value?: string;
  [attribute: string]: unknown;
}

/** $dictionary['<Object>'] */
export interface Dictionary {
  table?: string;
  module_dir?: string;
  audited?: boolean;
  optimistic_locking?: boolean;
  /** Cane: see dictionary.schema.json. */
  append_only?: boolean | { writers: string[] };
  /** Cane: only system actors (Cane's code, plugins) write the records; see dictionary.schema.json. */
  system_managed?: boolean;
  templates?: string[] | Record<string, string>;
  fields?: Record<string, FieldDef>;
  indices?: IndexDef[];
  relationships?: Record<string, RelationshipMeta>;
  [key: string]: unknown;
}

export interface TemplateDef {
  fields?: Record<string, FieldDef>;
  indices?: IndexDef[];
  relationships?: Record<string, RelationshipMeta>;
}

/** One layout row cell: a bare field name or a cell definition. */
export type LayoutCell = string | null | { name?: string; label?: string; displayParams?: Record<string, unknown>; [k: string]: unknown };

export interface PanelLayout {
  templateMeta?: Record<string, unknown>;
  panels: Record<string, LayoutCell[][]>;
}

export interface ModuleViews {
  list?: Record<string, Record<string, unknown>>;
  detail?: PanelLayout;
  edit?: PanelLayout;
  quickcreate?: PanelLayout;
  search?: { templateMeta?: Record<string, unknown>; layout: Record<string, Record<string, Record<string, unknown>>> };
  subpanels?: { subpanel_setup: Record<string, Record<string, unknown>> };
  /** Lead conversion (metadata/convertdefs.json): the records a record of this module converts into, by module. */
  convert?: Record<string, { ConvertLead: ConvertDef }>;
}

/** One module of a conversion: Sugar's $viewdefs[<Module>]['ConvertLead']. */
export interface ConvertDef {
  copyData?: boolean;
  required?: boolean;
  select?: string;
  default_action?: 'create' | 'select';
  relationship?: string;
  /** Target field -> field of the converted record, besides same-named fields when copyData. */
  field_map?: Record<string, string>;
  templateMeta?: Record<string, unknown>;
  panels: Record<string, Array<Array<string | null | { name: string; label?: string }>>>;
}
