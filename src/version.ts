/** The plugin's name as Nomad knows it (`driver = "containerd-driver"`). */
export const PLUGIN_NAME = "containerd-driver";
/** The plugin's version, reported in PluginInfo. */
export const PLUGIN_VERSION = "0.1.0";
