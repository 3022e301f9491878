import { evaluatePhp, parsePhp, PhpScope, type SkippedConstruct } from '../../core/import/php-evaluator';
import { toJson } from '../../core/import/php-array';

/** Issue 14, item 1: the importer evaluates literal PHP only, and names everything else. */
function run(source: string) {
  const scope = new PhpScope();
  const skipped: SkippedConstruct[] = [];
  evaluatePhp(parsePhp(source, 'x.php')!, 'x.php', scope, skipped);
  return { scope, skipped, json: (name: string) => toJson(scope.vars.get(name) ?? null) };
}

describe('PHP metadata evaluator', () => {
  it('evaluates literals, local variables, concatenation, pushes, translate() and array_merge', () => {
    const { json, scope } = run(`<?php
      $module_name = 'Gad' . "gets";
      $viewdefs[$module_name]['EditView']['panels']['default'][] = array('name', array('name' => 'kind', 'label' => translate('LBL_KIND', 'Gadgets')));
      $viewdefs[$module_name]['EditView']['panels']['default'][] = array(1 => 'b', 0 => 'a');
      $mod_strings = array('LBL_A' => 'A');
      $mod_strings = array_merge($mod_strings, array('LBL_B' => "B {$module_name}", 'LBL_N' => -2));
      VardefManager::createVardef('Gadgets', 'Gadget');
    `);
    expect(json('viewdefs')).toEqual({ Gadgets: { EditView: { panels: { default: [['name', { name: 'kind', label: 'LBL_KIND' }], { 1: 'b', 0: 'a' }] } } } });
    expect(json('mod_strings')).toEqual({ LBL_A: 'A', LBL_B: 'B Gadgets', LBL_N: -2 });
    expect(scope.createVardefs).toEqual([{ module: 'Gadgets', objectName: 'Gadget', templates: ['default'], line: 7 }]);
  });

  it('never runs calls, includes, conditionals or unknown variables, and reports each with its line', () => {
    const { json, skipped } = run(`<?php
      if (!defined('sugarEntry') || !sugarEntry) die('Not A Valid Entry Point');
      include 'other.php';
      $a = array('x' => 1, 'y' => time(), 'z' => $unknown);
      if ($a) { $b = 1; }
      exec('rm -rf /');
    `);
    expect(json('a')).toEqual({ x: 1 });
    expect(json('b')).toBeNull();
    expect(skipped.map((s) => `${s.line}: ${s.what} — ${s.instead}`)).toEqual([
      '3: an include of another file — not followed',
      "4: a call of time() — 'y' left out of the array",
      "4: the variable $unknown, which has no literal value here — 'z' left out of the array",
      '5: a conditional (if) — not evaluated; neither branch carried over',
      '6: a call of exec() — not executed',
    ]);
  });

  it('answers nothing for text that is not PHP or does not parse', () => {
    expect(parsePhp('just text', 'a.php')).toBeUndefined();
    expect(parsePhp('<?php $a = array(', 'a.php')).toBeUndefined();
  });
});
