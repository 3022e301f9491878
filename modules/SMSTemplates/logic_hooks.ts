import { HookVeto } from '../../core/errors';
import type { HookDefinition } from '../../core/hooks/types';
import type { Registry } from '../../core/metadata/registry';
import { compileSmsTemplate, templateFieldProblems, TemplateProblem } from '../../core/sms/templates';

/**
 * A template is checked when it is saved, not when a campaign is already sending: the body must
 * parse, and when the template names its module every {{field}} must exist there (or on a related
 * record, like {{assigned_user.first_name}}).
 */
export function smsTemplateHooks(registry: Registry): HookDefinition[] {
  return [
    {
      event: 'before_save',
      order: 1,
      label: 'Check the template body',
      handler: (bean) => {
        const body = typeof bean.body === 'string' ? bean.body : '';
        const module = typeof bean.template_module === 'string' && registry.modules.has(bean.template_module) ? bean.template_module : undefined;
        try {
          compileSmsTemplate(body);
        } catch (err) {
          if (err instanceof TemplateProblem) throw new HookVeto(err.message, 'body');
          throw err;
        }
        if (!module) return;
        const problems = templateFieldProblems(registry, body, module);
        if (problems.length) throw new HookVeto(problems.join('; '), 'body');
      },
    } satisfies HookDefinition<'before_save'> as HookDefinition,
  ];
}
