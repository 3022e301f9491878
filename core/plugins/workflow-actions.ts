import Ajv, { type ValidateFunction } from 'ajv';

/** Workflow actions built into the workflow engine; plugins may not take these names. */
export const BUILT_IN_WORKFLOW_ACTIONS = ['ModifyRecord', 'CreateRecord', 'SendSMS', 'AddToTargetList', 'RemoveFromTargetList', 'Delay'];

export interface WorkflowActionOffer {
  name: string;
  label: string;
  description?: string;
  pluginId: string;
  handler: string;
  /** The manifest's JSON Schema of the parameters. */
  parameters: Record<string, unknown>;
  validate: ValidateFunction;
}

/** Created on first use: most processes never load a plugin that offers an action. */
let shared: Ajv | undefined;
const ajv = () => (shared ??= new Ajv({ allErrors: true, strict: false }));

/** What is wrong with a parameter schema, if anything (checked when the plugin loads). */
export function parameterSchemaProblem(schema: unknown): string | undefined {
  try {
    ajv().compile({ type: 'object', ...(schema as object) });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * The action types plugins add to workflows, by name, as the loaded plugins declare them. Shared
 * by the plugin host (which fills it on every load) and the checks of AOW_Actions rows.
 */
export class WorkflowActionRegistry {
  private readonly byName = new Map<string, WorkflowActionOffer>();

  replace(offers: Array<Omit<WorkflowActionOffer, 'validate'>>): void {
    this.byName.clear();
    for (const offer of offers) this.byName.set(offer.name, { ...offer, validate: ajv().compile({ type: 'object', ...offer.parameters }) });
  }

  get(name: string): WorkflowActionOffer | undefined {
    return this.byName.get(name);
  }

  list(): WorkflowActionOffer[] {
    return [...this.byName.values()];
  }

  /** The first problem of a set of parameters, naming the parameter. */
  problem(offer: WorkflowActionOffer, parameters: unknown): string | undefined {
    if (offer.validate(parameters)) return undefined;
    const e = offer.validate.errors![0];
    const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : e.keyword === 'required' ? String((e.params as { missingProperty: string }).missingProperty) : 'parameters';
    return `${where} ${e.keyword === 'required' ? 'is required' : e.message}`;
  }
}
