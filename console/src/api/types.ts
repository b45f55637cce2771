/** Wire shapes the console reads: the types generated from the server's OpenAPI document. */
import type { Schemas } from './client.ts';

export type ReviewResult = 'pass' | 'fail';
export type Message = Schemas['Message'];
export type Trace = Schemas['Trace'];
export type Memory = Schemas['Memory'];
export type QValueChange = Schemas['QValueChange'];
export type Skill = Schemas['Skill'];
export type Project = Schemas['ProjectSummary'];
export type ApiKeyInfo = Schemas['ApiKeyInfo'];
export type CreatedApiKey = Schemas['CreatedApiKey'];
export type MentalModel = Omit<Schemas['MentalModel'], 'trigger'>;
export type Directive = Schemas['Directive'];
export type ReflectAnswer = Schemas['ReflectResponse'];
export type Stats = Schemas['ProjectStats'];
export type LlmCall = Schemas['LlmCall'];
export type BulkReviewResult = Schemas['BulkReviewResult'];
export type JudgeSettings = Schemas['JudgeSettings'];
export type JudgeAgreement = Schemas['JudgeAgreement'];
