export type { Operation, Model, StepResult } from './model';
export { checkLinearizability } from './checker';
export type { CheckOptions, CheckResult, IllegalExplanation } from './checker';
export { kvModel } from './kv-model';
export type { KvModelInput, KvModelOutput, KvModelState } from './kv-model';
