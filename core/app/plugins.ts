import path from 'node:path';
import type { Engine } from './engine';
import type { Logger } from '../records/context';
import type { Clock } from '../records/time';
import { PluginHost, type PluginHostOptions } from '../plugins/plugin-host';
import { packageRoot } from '../paths';
import type { SmsService } from '../sms/sms-service';

export type PluginOptions = Partial<PluginHostOptions> & { installedDir?: string };

/** The folders plugins are loaded from: the built-in ones, then CANE_PLUGINS_DIR (default ./cane-plugins). */
export function pluginDirs(installedDir?: string): PluginHostOptions['dirs'] {
  return [
    { dir: path.join(packageRoot(), 'plugins'), builtIn: true },
    { dir: path.resolve(installedDir ?? process.env.CANE_PLUGINS_DIR ?? 'cane-plugins'), builtIn: false },
  ];
}

/** Starts the plugin host of a Cane process (server or worker), with SMS sending when the SMS module runs. */
export async function startPluginHost(engine: Engine, options: PluginOptions, settings: PluginHostOptions['settings'], sms: SmsService | undefined, log: Logger, clock: Clock): Promise<PluginHost> {
  const host = new PluginHost(engine, { dirs: options.dirs ?? pluginDirs(options.installedDir), ...options, settings }, log, clock);
  const bridge = host.bridge;
  if (sms) bridge.smsSender = async (message, plugin) => {
    const result = await sms.send(bridge.actorFor(plugin), message, 'workflow');
    return { sent: result.records.map((r) => ({ id: r.id, to: r.to_number, status: r.status })), refused: result.refused };
  };
  await host.start();
  return host;
}
