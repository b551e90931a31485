/**
 * Static scanning of pickles in model files (issue 14, unsafe deserialization): the opcode walker,
 * the allow/deny policy, the container routing and the TG-ML-PICKLE-### findings. Nothing here ever
 * unpickles or imports scanned content.
 */
export { walkPickle, hasPickleMagic, DEFAULT_PICKLE_LIMITS } from "./walk.ts";
export type { PickleLimits, PickleGlobal, WalkResult, WalkError, WalkAnomaly, WalkOptions, PickleSummary, ImportOpcode, CallOpcode } from "./walk.ts";
export { judgeGlobal, ALLOWLIST, DENYLIST } from "./policy.ts";
export type { GlobalVerdict, ExtraAllow } from "./policy.ts";
export { PICKLE_RULES, PICKLE_RULE_IDS, fileComponent } from "./findings.ts";
export type { PickleRule, JudgedGlobal } from "./findings.ts";
export { scanPickleBearingFile, DEFAULT_PICKLE_SCAN_LIMITS, TORCH_LEGACY_MAGIC } from "./scan.ts";
export type { PickleScanLimits, PickleScanOptions, PickleScanResult, PickleFileFormat } from "./scan.ts";
export { OPCODES } from "./opcodes.ts";
export type { OpcodeInfo, ArgKind } from "./opcodes.ts";
