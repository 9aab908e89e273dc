export * from "./networkTuning";
export * from "./networkTuningArgs";
export * from "./resources";
export { renderBootUnit, bootCommands, systemdQuote } from "./bootUnit";
export type { SysctlProfileSpec, SysctlSetting } from "./sysctlProfileKind";
export type { LinkMtuSpec } from "./linkMtuKind";
export type { TcShapingSpec } from "./tcShapingKind";
export type { Shaping, TbfShaping, HtbShaping, HtbClass } from "./tcShapingArgs";
export type { EthtoolSpec } from "./ethtoolKind";
