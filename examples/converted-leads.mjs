// The README's worked example (section Workflows): run it against `npm run demo`.
import { serialize } from 'php-serialize';
const base = 'http://localhost:3000/rest/v10';
const suite = (value) => Buffer.from(serialize(value)).toString('base64'); // how SuiteCRM stores them
const { access_token } = await (await fetch(`${base}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ grant_type: 'password', client_id: 'sugar', username: 'admin', password: 'admin' }) })).json();
const api = async (path, body) => (await fetch(`${base}/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'OAuth-Token': access_token }, body: JSON.stringify(body) })).json();

const flow = await api('AOW_WorkFlow', { name: 'Converted leads', flow_module: 'Leads', run_when: 'On_Save', flow_run_on: 'All_Records' });
const list = await api('ProspectLists', { name: 'Converted', list_type: 'default' });
await api('AOW_Conditions', { aow_workflow_id: flow.id, condition_order: 1, module_path: suite(['Leads']), field: 'status', operator: 'Equal_To', value_type: 'Value', value: 'Converted' });
await api('AOW_Actions', { aow_workflow_id: flow.id, action_order: 1, action: 'SendSMS', parameters: suite({ recipient: 'assigned_user', text: 'A lead of yours converted.' }) });
await api('AOW_Actions', { aow_workflow_id: flow.id, action_order: 2, action: 'AddToTargetList', parameters: suite({ target_list_id: list.id }) });
const lead = await api('Leads', { last_name: 'Example', status: 'Converted', assigned_user_id: 'demo-user-sally' });
console.log(`lead ${lead.id}: see its "Processed Workflows" subpanel, the SMS list and the Converted target list`);
