import type { z } from "zod";
import type { AlertOutcome } from "../../automation/alert-trigger.js";
import type { CommandResult } from "../../failover/run-command.js";
import type { Operation as OperationView } from "../../operations/operation.js";
import type { FailoverView, LockView, NodeFailoverView } from "../../presenters/http-json.js";
import type { ErrorBody as ErrorBodyView } from "../error-response.js";
import type * as S from "./responses.js";

/**
 * Type-level checks, no runtime code: each body the routes serve (the presenters' views and
 * the objects the routes send) has exactly the shape of its schema in the OpenAPI document.
 * A field added, removed, renamed, made optional or retyped on one side and not the other
 * fails `tsc`, here, so the document cannot drift from the code silently.
 *
 * Both sides are compared as JSON sees them (Json<T>): a property whose value may be
 * `undefined` is one JSON.stringify may omit, so it is optional. A view that is one flat
 * interface with optional fields is compared with its schema's union of outcome shapes
 * flattened the same way (Flat<U>); the per-outcome shapes are checked by the response test.
 */

/** Exact type equality (not mere assignability, which lets extra optional fields through). */
type Equals<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

type UndefinedKeys<T> = { [K in keyof T]-?: undefined extends T[K] ? K : never }[keyof T];
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** T as it reads back from JSON: readonly, `undefined`-able fields optional and defined. */
type Json<T> = T extends readonly (infer E)[]
  ? readonly Json<E>[]
  : T extends object
    ? Simplify<
        { readonly [K in Exclude<keyof T, UndefinedKeys<T>>]: Json<T[K]> } & {
          readonly [K in UndefinedKeys<T>]?: Json<Exclude<T[K], undefined>>;
        }
      >
    : T;

type KeysOf<U> = U extends unknown ? keyof U : never;
type ValueAt<U, K extends PropertyKey> = U extends unknown
  ? K extends keyof U
    ? U[K]
    : undefined
  : never;
/** A union of object shapes as one object: a field absent from some shape is optional. */
type Flat<U> = { [K in KeysOf<U>]: ValueAt<U, K> };

/** The schema's output (what it accepts as a served body), as JSON. */
type Doc<Schema extends z.ZodType> = Json<z.output<Schema>>;

type StatusResult = Extract<CommandResult, { kind: "status" }>["status"];
type AllStatusResult = Extract<CommandResult, { kind: "all_status" }>["status"];
type ListResult = Extract<CommandResult, { kind: "list" }>;
type HistoryResult = Extract<CommandResult, { kind: "history" }>;

export type ViewsMatchTheirSchemas = [
  Expect<Equals<Json<FailoverView>, Json<Flat<z.output<typeof S.FailoverAnswer>>>>>,
  Expect<Equals<Json<NodeFailoverView>, Json<Flat<z.output<typeof S.NodeAnswer>>>>>,
  Expect<Equals<Json<LockView>, Doc<typeof S.LockAnswer>>>,
  Expect<Equals<Json<StatusResult>, Doc<typeof S.ServiceStatus>>>,
  Expect<Equals<Json<AllStatusResult>, Doc<typeof S.AllStatus>>>,
  Expect<Equals<Json<{ services: ListResult["services"] }>, Doc<typeof S.ServiceList>>>,
  Expect<Equals<Json<{ service: string; history: HistoryResult["items"] }>, Doc<typeof S.History>>>,
  Expect<Equals<Json<{ operation: OperationView }>, Doc<typeof S.OperationAnswer>>>,
  Expect<Equals<Json<{ alerts: AlertOutcome[] }>, Doc<typeof S.AlertmanagerAnswer>>>,
  // One way only: the schema also has rate-limit.ts's `rate_limited`, outside the domain's codes.
  Expect<Json<ErrorBodyView> extends Doc<typeof S.ErrorBody> ? true : false>,
];
