import type { Engine } from './engine';
import type { TokenStore } from '../security/tokens';
import type { Authenticator } from '../security/authenticate';
import type { AclPolicy } from '../security/acl';
import type { Logger } from '../records/context';
import type { SmsService } from '../sms/sms-service';
import type { PluginHost } from '../plugins/plugin-host';

/** What the HTTP layers need, built once by createCrm. */
export interface CrmServices {
  engine: Engine;
  tokens: TokenStore;
  auth: Authenticator;
  acl: AclPolicy;
  log: Logger;
  bodyLimit: number;
  /** Sugar's `disable_count_query`: v4_1 get_entry_list answers total_count -1 instead of counting every match (large tables). */
  disableCountQuery?: boolean;
  /** Absent when createCrm was given `sms: false`. */
  sms?: SmsService;
  /** Absent when createCrm was given `plugins: false`. */
  plugins?: PluginHost;
}
