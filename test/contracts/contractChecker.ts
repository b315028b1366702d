/**
 * Checks recorded sandbox exchanges against Azure's REST specs (swagger 2.0, test/contracts/specs):
 * path and method found, parameters, api-version, status declared, bodies against their schema,
 * declared headers, the API's error envelope and paging. Schemas are translated to JSON Schema
 * with swagger 2.0 / AutoRest semantics and validated by ajv; swagger-parser checks each spec is
 * valid swagger and resolves its references (other files, examples). Swagger cannot say a
 * response header is always sent; `x-contract-always: true` on a header (this project's
 * extension) says so where the service's contract depends on it (the send's Operation-Location).
 * A long-running operation's status URL (`Azure-AsyncOperation`, `Location`) is opaque in the
 * specs; an exchange with a URL an earlier 201/202 handed out is checked as ARM's asynchronous
 * operation protocol (common-types `OperationStatusResult`).
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import SwaggerParser from "@apidevtools/swagger-parser";
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import type { RecordedExchange } from "../../src/sandbox";

/** The specs stay in the source tree; the compiled run (dist/contracts/...) finds them by walking up. */
export const SPECS_DIR = findSpecs(__dirname);
/** ARM's shared types, at their published path (the specs refer to them relatively). */
const COMMON_TYPES = "specification/common-types/resource-management/v5/types.json";

function findSpecs(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "test", "contracts", "specs");
    if (existsSync(path.join(candidate, "manifest.json"))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`No test/contracts/specs above ${from}`);
  }
}

export interface ContractFailure {
  /** The operation, or the request line when none matched. */
  operation: string;
  /** What was checked: the exchange (`GET /path → 404`) or the spec example's name. */
  subject: string;
  message: string;
}

export interface ContractReport {
  /** Distinct operations the exchanges reached. */
  operations: number;
  exchanges: number;
  bodiesValidated: number;
  failures: ContractFailure[];
  /** Operations the manifest lists that no exchange reached. */
  operationsNotExercised: string[];
}

export interface ManifestEntry {
  file: string;
  sdkPackage: string | null;
  /** The SDK release the entry was checked against: an upgrade makes the api-version test look again. */
  sdkVersion?: string;
  apiVersion: string | null;
  operations: string[];
  /** For system-event schemas (no operations): event type → the definition its `data` follows. */
  events?: Record<string, string>;
  source: { path: string; commit: string };
}

/** A schema for events delivered to the monitor (Event Grid system events, EventGridSchema). */
interface EventSchema {
  eventType: string;
  envelope: SwaggerSchema;
  data: SwaggerSchema;
}

type SwaggerSchema = Record<string, unknown>;
type JsonSchema = Record<string, unknown> | boolean;
type Direction = "request" | "response";

interface SwaggerParameter {
  name: string;
  in: "path" | "query" | "header" | "body" | "formData";
  required?: boolean;
  type?: string;
  format?: string;
  pattern?: string;
  enum?: unknown[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  schema?: SwaggerSchema;
  "x-ms-skip-url-encoding"?: boolean;
}

interface SwaggerResponse {
  schema?: SwaggerSchema;
  headers?: Record<string, SwaggerSchema & { "x-contract-always"?: boolean }>;
}

interface Operation {
  id: string;
  method: string;
  template: string;
  pattern: RegExp;
  /** Path parameter names in template order. */
  pathParameters: string[];
  literalLength: number;
  apiVersion: string;
  dataPlaneHost: boolean;
  parameters: SwaggerParameter[];
  responses: Record<string, SwaggerResponse>;
  nextLinkName: string | null | undefined;
  /** x-ms-long-running-operation: a 201/202 must say where to follow it. */
  longRunning: boolean;
  examples: Record<string, { parameters?: Record<string, unknown>; responses?: Record<string, { body?: unknown; headers?: Record<string, unknown> }> }>;
}

export function readManifest(): ManifestEntry[] {
  return (JSON.parse(readFileSync(path.join(SPECS_DIR, "manifest.json"), "utf8")) as { specs: ManifestEntry[] }).specs;
}

const HTTP_METHODS = ["get", "put", "post", "patch", "delete", "head"];

export class ContractChecker {
  private readonly ajv: Ajv;
  /** Each swagger schema object (by identity, after dereferencing) gets one JSON Schema per direction. */
  private readonly ids = { request: new Map<object, string>(), response: new Map<object, string>() };
  private readonly plainIds = { request: new Map<object, string>(), response: new Map<object, string>() };
  private readonly defs: Record<string, JsonSchema> = {};
  /** Per spec: every named definition, to find the subtypes of a discriminated base. */
  private readonly definitionsOf = new Map<object, Record<string, SwaggerSchema>>();
  private compiled = new Map<string, ValidateFunction>();
  private readonly reached = new Set<string>();
  /** Status URLs (path, lower case) long-running operations handed out, and the operation each follows. */
  private readonly statusUrls = new Map<string, Operation>();

  private constructor(
    readonly operations: Operation[],
    /** ARM's asynchronous operation status body (common types), for the status URLs above. */
    private readonly operationStatusSchema: SwaggerSchema,
    /** Events the monitor receives, by event type. */
    private readonly eventSchemas: EventSchema[] = [],
  ) {
    this.ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    addFormats(this.ajv);
    // AutoRest formats ajv-formats does not know.
    this.ajv.addFormat("base64url", /^[A-Za-z0-9_-]*={0,2}$/);
    // AutoRest's "url" is any absolute http(s) URL, IP hosts and ports included.
    this.ajv.addFormat("url", (value: string) => /^https?:\/\/./i.test(value) && URL.canParse(value));
    this.ajv.addFormat("unixtime", { type: "number", validate: (n: number) => Number.isInteger(n) && n >= 0 });
    for (const loose of ["arm-id", "duration-constant", "decimal", "char"]) this.ajv.addFormat(loose, true);
  }

  /** Validates every spec in the manifest as swagger 2.0 and loads its operations. */
  static async load(entries: ManifestEntry[] = readManifest()): Promise<ContractChecker> {
    const operations: Operation[] = [];
    const definitions: Array<[object, Record<string, SwaggerSchema>]> = [];
    for (const entry of entries.filter((e) => e.apiVersion !== null)) {
      const api = (await new SwaggerParser().validate(path.join(SPECS_DIR, entry.file))) as unknown as {
        info: { version: string };
        paths: Record<
          string,
          Record<string, { operationId: string; parameters?: SwaggerParameter[]; responses: Record<string, SwaggerResponse> } & Record<string, unknown>>
        >;
        definitions?: Record<string, SwaggerSchema>;
        "x-ms-parameterized-host"?: unknown;
      };
      definitions.push([api, api.definitions ?? {}]);
      for (const [template, item] of Object.entries(api.paths)) {
        for (const method of HTTP_METHODS) {
          const op = item[method];
          if (!op) continue;
          const parameters = [...((item["parameters"] as unknown as SwaggerParameter[] | undefined) ?? []), ...(op.parameters ?? [])];
          const { pattern, names, literalLength } = pathPattern(template, parameters);
          const pageable = op["x-ms-pageable"] as { nextLinkName?: string | null } | undefined;
          operations.push({
            id: op.operationId,
            method: method.toUpperCase(),
            template,
            pattern,
            pathParameters: names,
            literalLength,
            apiVersion: api.info.version,
            // Key Vault keys answer on the vault's own host, not on ARM's.
            dataPlaneHost: entry.sdkPackage === "@azure/keyvault-keys",
            parameters,
            responses: op.responses,
            nextLinkName: pageable ? (pageable.nextLinkName ?? null) : undefined,
            longRunning: op["x-ms-long-running-operation"] === true,
            examples: (op["x-ms-examples"] as Operation["examples"] | undefined) ?? {},
          });
        }
      }
    }
    const common = (await new SwaggerParser().dereference(path.join(SPECS_DIR, COMMON_TYPES))) as unknown as {
      definitions: Record<string, SwaggerSchema>;
    };
    const eventSchemas: EventSchema[] = [];
    for (const entry of entries.filter((e) => e.events)) {
      const api = (await new SwaggerParser().validate(path.join(SPECS_DIR, entry.file))) as unknown as { definitions: Record<string, SwaggerSchema> };
      definitions.push([api, api.definitions]);
      for (const [eventType, definition] of Object.entries(entry.events!)) {
        eventSchemas.push({ eventType, envelope: api.definitions["EventGridEvent"]!, data: api.definitions[definition]! });
      }
    }
    const checker = new ContractChecker(operations, common.definitions["OperationStatusResult"]!, eventSchemas);
    for (const [api, defs] of definitions) checker.definitionsOf.set(api, defs);
    return checker;
  }

  /** Checks exchanges (and resets nothing: call once per run). */
  checkExchanges(exchanges: readonly RecordedExchange[]): ContractReport {
    this.learnStatusUrls(exchanges);
    const failures: ContractFailure[] = [];
    let bodiesValidated = 0;
    for (const exchange of exchanges) {
      const result = this.checkExchange(exchange);
      failures.push(...result.failures);
      bodiesValidated += result.bodiesValidated;
    }
    const listed = new Set(this.operations.map((o) => o.id));
    return {
      operations: this.reached.size,
      exchanges: exchanges.length,
      bodiesValidated,
      failures,
      operationsNotExercised: [...listed].filter((id) => !this.reached.has(id)),
    };
  }

  /** The specs' own x-ms-examples, checked as if they were exchanges: a check on the checker. */
  checkExamples(): { examples: number; failures: ContractFailure[] } {
    const failures: ContractFailure[] = [];
    let examples = 0;
    for (const op of this.operations) {
      for (const [name, example] of Object.entries(op.examples)) {
        examples += 1;
        const fail = (message: string) => failures.push({ operation: op.id, subject: `example "${name}"`, message });
        for (const parameter of op.parameters) {
          const value = example.parameters?.[parameter.name];
          if (value === undefined) {
            if (parameter.required) fail(`required ${parameter.in} parameter "${parameter.name}" missing`);
            continue;
          }
          if (parameter.in === "body") this.validate(parameter.schema!, "request", value, `${parameter.name}`).forEach(fail);
          else this.checkParameterValue(parameter, String(value)).forEach(fail);
        }
        for (const [status, response] of Object.entries(example.responses ?? {})) {
          const declared = op.responses[status] ?? (Number(status) >= 400 ? op.responses["default"] : undefined);
          if (!declared) {
            fail(`status ${status} is not declared`);
            continue;
          }
          const headers = Object.fromEntries(Object.entries(response.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
          this.checkHeaders(declared, headers).forEach(fail);
          if (declared.schema && response.body !== undefined) this.validate(declared.schema, "response", response.body, "body").forEach(fail);
        }
      }
    }
    return { examples, failures };
  }

  /**
   * Events as the monitor's Event Grid trigger receives them (EventGridSchema), each against the
   * envelope and its type's data schema; an event type no spec describes is a failure.
   */
  checkEvents(events: readonly unknown[]): { events: number; failures: ContractFailure[] } {
    const failures: ContractFailure[] = [];
    events.forEach((event, index) => {
      const eventType = (event as { eventType?: unknown } | null)?.eventType;
      const schema = this.eventSchemas.find((s) => s.eventType === eventType);
      const subject = `event ${index + 1} (${String(eventType)})`;
      if (!schema) {
        failures.push({ operation: String(eventType), subject, message: "no spec describes this event type" });
        return;
      }
      const problems = [
        ...this.validate(schema.envelope, "response", event, "event"),
        ...this.validate(schema.data, "response", (event as { data?: unknown }).data, "event/data"),
      ];
      for (const message of problems) failures.push({ operation: schema.eventType, subject, message });
    });
    return { events: events.length, failures };
  }

  /** The spec operation an exchange's method, host and path match (the most specific path wins). */
  operationFor(exchange: Pick<RecordedExchange, "method" | "host" | "url">): { id: string; apiVersion: string } | undefined {
    const followed = this.statusUrls.get(new URL(exchange.url, "https://sandbox.invalid").pathname.toLowerCase());
    if (followed && exchange.method === "GET") return { id: `${followed.id} (status)`, apiVersion: followed.apiVersion };
    return this.match(exchange);
  }

  /**
   * Remembers the status URLs long-running operations' 201/202 answers hand out, so that
   * operationFor and the checks know the polls (call before them; checkExchanges does).
   */
  learnStatusUrls(exchanges: readonly RecordedExchange[]): void {
    for (const exchange of exchanges) {
      const op = this.match(exchange);
      if (!op?.longRunning || (exchange.status !== 201 && exchange.status !== 202)) continue;
      for (const header of ["azure-asyncoperation", "location"]) {
        const target = exchange.responseHeaders[header];
        if (target && URL.canParse(target)) this.statusUrls.set(new URL(target).pathname.toLowerCase(), op);
      }
    }
  }

  private match(exchange: Pick<RecordedExchange, "method" | "host" | "url">): Operation | undefined {
    const url = new URL(exchange.url, "https://sandbox.invalid");
    const dataPlane = /\.vault\.azure\.net(:\d+)?$/i.test(exchange.host);
    return this.operations
      .filter((o) => o.method === exchange.method && o.dataPlaneHost === dataPlane && o.pattern.test(url.pathname))
      .sort((a, b) => b.literalLength - a.literalLength)[0];
  }

  private checkExchange(exchange: RecordedExchange): { failures: ContractFailure[]; bodiesValidated: number } {
    const url = new URL(exchange.url, "https://sandbox.invalid");
    const subject = `${exchange.method} ${exchange.host.replace(/:\d+$/, "")}${url.pathname} → ${exchange.status}`;
    const followed = this.statusUrls.get(url.pathname.toLowerCase());
    if (followed && exchange.method === "GET") return this.checkStatusExchange(followed, exchange, subject);
    const op = this.match(exchange);
    if (!op)
      return {
        failures: [{ operation: `${exchange.method} ${url.pathname}`, subject, message: "no operation in the specs matches this path and method" }],
        bodiesValidated: 0,
      };
    this.reached.add(op.id);
    const failures: ContractFailure[] = [];
    const fail = (message: string) => failures.push({ operation: op.id, subject, message });

    // Request: api-version, path/query/header parameters, body.
    const apiVersion = url.searchParams.get("api-version");
    const versionRejected = apiVersion !== op.apiVersion;
    if (versionRejected && exchange.status !== 400) fail(`api-version "${apiVersion}" is not the spec's "${op.apiVersion}" and was not rejected with 400`);
    const pathValues = op.pattern.exec(url.pathname)!.slice(1);
    for (const parameter of op.parameters) {
      let value: string | undefined;
      if (parameter.in === "path") value = decodeURIComponent(pathValues[op.pathParameters.indexOf(parameter.name)] ?? "");
      else if (parameter.in === "query") value = url.searchParams.get(parameter.name) ?? undefined;
      else if (parameter.in === "header") value = exchange.requestHeaders[parameter.name.toLowerCase()];
      if (parameter.in === "body") {
        if (!exchange.requestBody) {
          if (parameter.required) fail(`required body "${parameter.name}" missing`);
        } else {
          const body = parseJson(exchange.requestBody);
          if (body === undefined) fail("request body is not JSON");
          else this.validate(parameter.schema!, "request", body, "request").forEach(fail);
        }
        continue;
      }
      if (value === undefined || (value === "" && parameter.in !== "path")) {
        if (parameter.required) fail(`required ${parameter.in} parameter "${parameter.name}" missing`);
        continue;
      }
      // An empty path value is how the SDK asks Key Vault for a key's current version.
      if (parameter.in === "path" && value === "") continue;
      this.checkParameterValue(parameter, value).forEach(fail);
    }

    // Response: declared status, headers, body, error envelope, paging; and what Learn documents for throttling.
    const status = String(exchange.status);
    const declared = op.responses[status] ?? (exchange.status >= 400 ? op.responses["default"] : undefined);
    if (!declared) {
      fail(`status ${status} is not declared (declared: ${Object.keys(op.responses).join(", ")})`);
      return { failures, bodiesValidated: 0 };
    }
    this.checkHeaders(declared, exchange.responseHeaders).forEach(fail);
    checkThrottlingHeaders(op, exchange).forEach(fail);
    if (op.longRunning && (exchange.status === 201 || exchange.status === 202)) checkLongRunningStart(declared, exchange).forEach(fail);
    let bodiesValidated = 0;
    if (declared.schema) {
      const body = parseJson(exchange.responseBody);
      if (body === undefined) fail("response body is not JSON");
      else {
        bodiesValidated = 1;
        this.validate(declared.schema, "response", body, "body").forEach(fail);
        if (exchange.status >= 400) checkErrorEnvelope(body).forEach(fail);
        else checkPaging(op, body, url).forEach(fail);
      }
    }
    return { failures, bodiesValidated };
  }

  /**
   * A poll of a long-running operation's status URL (ARM's asynchronous operation protocol): 200
   * with the status body (a Failed one says why), or an error in ARM's envelope; a 429 says when to
   * come back. The URL is the service's own, so only its api-version is compared.
   */
  private checkStatusExchange(op: Operation, exchange: RecordedExchange, subject: string): { failures: ContractFailure[]; bodiesValidated: number } {
    this.reached.add(op.id);
    const failures: ContractFailure[] = [];
    const fail = (message: string) => failures.push({ operation: `${op.id} (status)`, subject, message });
    const apiVersion = new URL(exchange.url, "https://sandbox.invalid").searchParams.get("api-version");
    if (apiVersion !== op.apiVersion) fail(`status URL api-version "${apiVersion}" is not the operation's "${op.apiVersion}"`);
    checkThrottlingHeaders(op, exchange).forEach(fail);
    const body = parseJson(exchange.responseBody);
    if (exchange.status >= 400) {
      if (body === undefined) fail("response body is not JSON");
      else checkErrorEnvelope(body).forEach(fail);
      return { failures, bodiesValidated: body === undefined ? 0 : 1 };
    }
    if (exchange.status !== 200) {
      fail(`status ${exchange.status} is not an asynchronous operation status answer (200)`);
      return { failures, bodiesValidated: 0 };
    }
    if (body === undefined) {
      fail("response body is not JSON");
      return { failures, bodiesValidated: 0 };
    }
    this.validate(this.operationStatusSchema, "response", body, "body").forEach(fail);
    const status = (body as { status?: unknown } | null)?.status;
    if (status === "Failed" && !(body as { error?: unknown }).error) fail("a Failed operation status without error");
    return { failures, bodiesValidated: 1 };
  }

  private checkParameterValue(parameter: SwaggerParameter, raw: string): string[] {
    const { name, in: where, required, schema, "x-ms-skip-url-encoding": skip, ...constraints } = parameter;
    void required;
    void schema;
    void skip;
    const value = constraints.type === "integer" || constraints.type === "number" ? Number(raw) : constraints.type === "boolean" ? raw === "true" : raw;
    return this.validate(constraints, "request", value, `${where} parameter "${name}"`);
  }

  private checkHeaders(declared: SwaggerResponse, headers: Record<string, string>): string[] {
    const problems: string[] = [];
    for (const [name, header] of Object.entries(declared.headers ?? {})) {
      const value = headers[name.toLowerCase()];
      if (value === undefined) {
        if (header["x-contract-always"]) problems.push(`declared header "${name}" missing`);
        continue;
      }
      const typed = header["type"] === "integer" || header["type"] === "number" ? (/^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value) : value;
      problems.push(...this.validate(header, "response", typed, `header "${name}"`));
    }
    return problems;
  }

  private validate(schema: SwaggerSchema, direction: Direction, value: unknown, what: string): string[] {
    const id = this.refFor(schema, direction, false);
    let validate = this.compiled.get(id);
    if (!validate) {
      // The definitions grow as schemas are met, so each root compiles against the current set.
      validate = this.ajv.compile({ $defs: { ...this.defs }, $ref: `#/$defs/${id}` });
      this.compiled.set(id, validate);
    }
    if (validate(value)) return [];
    return (validate.errors ?? []).filter((e) => !isNoise(e)).map((e) => `${what}${e.instancePath || ""}: ${e.message ?? e.keyword}${describeParams(e)}`);
  }

  /** The $defs id of a swagger schema in one direction; `plain` leaves out a discriminator's dispatch. */
  private refFor(schema: SwaggerSchema, direction: Direction, plain: boolean): string {
    const map = plain ? this.plainIds[direction] : this.ids[direction];
    const known = map.get(schema);
    if (known) return known;
    const id = `${direction}${plain ? "Plain" : ""}${map.size}`;
    map.set(schema, id);
    this.defs[id] = this.toJsonSchema(schema, direction, plain);
    // A new definition invalidates nothing compiled (earlier roots never refer to it).
    return id;
  }

  private ref(schema: SwaggerSchema, direction: Direction, plain = false): JsonSchema {
    return { $ref: `#/$defs/${this.refFor(schema, direction, plain)}` };
  }

  private toJsonSchema(schema: SwaggerSchema, direction: Direction, plain: boolean): JsonSchema {
    const out: Record<string, unknown> = {};
    const type = schema["type"] as string | undefined;
    const properties = schema["properties"] as Record<string, SwaggerSchema> | undefined;
    const allOf = schema["allOf"] as SwaggerSchema[] | undefined;
    const additional = schema["additionalProperties"] as SwaggerSchema | boolean | undefined;
    // AutoRest: `type: object` with no structure means "any JSON value" (e.g. Resource Graph's `data`).
    const anyValue = type === "object" && !properties && !allOf && additional === undefined;
    if (type && !anyValue) out["type"] = type === "file" ? "string" : type;
    for (const key of ["format", "pattern", "minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems", "uniqueItems"]) {
      if (schema[key] !== undefined) out[key] = schema[key];
    }
    // Swagger 2.0's exclusive bounds are flags on minimum/maximum; JSON Schema's are the bounds themselves.
    if (schema["exclusiveMinimum"] === true) out["exclusiveMinimum"] = out["minimum"];
    if (schema["exclusiveMaximum"] === true) out["exclusiveMaximum"] = out["maximum"];
    const xmsEnum = schema["x-ms-enum"] as { modelAsString?: boolean } | undefined;
    // An enum modelled as string is extensible: any string is allowed, the listed values are only the known ones.
    if (Array.isArray(schema["enum"]) && !(xmsEnum?.modelAsString ?? false)) out["enum"] = schema["enum"];
    if (schema["items"]) out["items"] = this.ref(schema["items"] as SwaggerSchema, direction);
    if (properties) {
      const converted: Record<string, JsonSchema> = {};
      for (const [name, property] of Object.entries(properties)) {
        // readOnly: the server sends it; a client must not.
        converted[name] = direction === "request" && property["readOnly"] === true ? false : this.ref(property, direction);
      }
      out["properties"] = converted;
    }
    if (additional !== undefined) out["additionalProperties"] = typeof additional === "boolean" ? additional : this.ref(additional, direction);
    const required = (schema["required"] as string[] | undefined)?.filter((name) => !(direction === "request" && properties?.[name]?.["readOnly"] === true));
    if (required?.length) out["required"] = required;
    const parts: JsonSchema[] = [];
    if (allOf) for (const parent of allOf) parts.push(this.ref(parent, direction, parent["discriminator"] !== undefined));
    const discriminator = schema["discriminator"] as string | undefined;
    if (discriminator && !plain) {
      // The discriminator's value picks the subtype whose schema the object must also match.
      for (const [name, candidate] of this.subtypesOf(schema)) {
        const value = (candidate["x-ms-discriminator-value"] as string | undefined) ?? name;
        parts.push({ if: { properties: { [discriminator]: { const: value } }, required: [discriminator] }, then: this.ref(candidate, direction) });
      }
    }
    const core: JsonSchema = parts.length ? { allOf: [out, ...parts] } : out;
    // Swagger 2.0: null only where x-nullable says so.
    return schema["x-nullable"] === true ? { anyOf: [core, { type: "null" }] } : core;
  }

  private *subtypesOf(base: SwaggerSchema): Iterable<[string, SwaggerSchema]> {
    for (const definitions of this.definitionsOf.values()) {
      for (const [name, candidate] of Object.entries(definitions)) {
        if ((candidate["allOf"] as SwaggerSchema[] | undefined)?.includes(base)) yield [name, candidate];
      }
    }
  }
}

function pathPattern(template: string, parameters: SwaggerParameter[]): { pattern: RegExp; names: string[]; literalLength: number } {
  const names: string[] = [];
  let literalLength = 0;
  const source = template
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const name = /^\{([^}]+)\}$/.exec(part)?.[1];
      if (!name) {
        literalLength += part.length;
        return part.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
      }
      names.push(name);
      const parameter = parameters.find((p) => p.in === "path" && p.name === name);
      // A parameter the spec does not URL-encode (a scope, a role id) spans segments.
      return parameter?.["x-ms-skip-url-encoding"] ? "(.+?)" : "([^/]*)";
    })
    .join("");
  // ARM matches paths case-insensitively and SDKs may leave a trailing slash.
  return { pattern: new RegExp(`^/*${source.replace(/^\//, "")}/?$`, "i"), names, literalLength };
}

/** Every error body names its code: callers branch on it (the envelope's shape is in the spec). */
function checkErrorEnvelope(body: unknown): string[] {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (!error || typeof error.code !== "string" || !error.code) return ["error envelope without error.code"];
  if (typeof error.message !== "string") return ["error envelope without error.message"];
  return [];
}

/**
 * A pageable list's next link is absolute, points at the same operation and keeps the api-version;
 * a list the spec does not page must not carry one (the SDK ignores it: accounts would be lost).
 */
function checkPaging(op: Operation, body: unknown, url: URL): string[] {
  if (op.nextLinkName === undefined || typeof body !== "object" || body === null) return [];
  const record = body as Record<string, unknown>;
  if (op.nextLinkName === null) return typeof record["nextLink"] === "string" ? ["nextLink on a list the spec does not page (the SDK ignores it)"] : [];
  const next = record[op.nextLinkName];
  if (next === undefined || next === null) return [];
  if (typeof next !== "string") return [`${op.nextLinkName} is not a string`];
  let link: URL;
  try {
    link = new URL(next);
  } catch {
    return [`${op.nextLinkName} is not an absolute URL: ${next}`];
  }
  const problems: string[] = [];
  if (!op.pattern.test(link.pathname)) problems.push(`${op.nextLinkName} points at another path: ${link.pathname}`);
  if (link.searchParams.get("api-version") !== url.searchParams.get("api-version")) problems.push(`${op.nextLinkName} changes the api-version`);
  return problems;
}

/**
 * Not in the swagger, documented on Learn: a 429 says when to come back ("Retry-After"; the SDKs
 * retry only a 429 that has it), and Resource Graph's answers carry the caller's quota
 * ("Guidance for throttled requests").
 */
function checkThrottlingHeaders(op: Operation, exchange: RecordedExchange): string[] {
  const problems: string[] = [];
  const headers = exchange.responseHeaders;
  if (exchange.status === 429 && !/^\d+$/.test(headers["retry-after"] ?? "")) problems.push("429 without a Retry-After in seconds");
  if (op.id === "Resources" && (exchange.status === 200 || exchange.status === 429)) {
    if (!/^\d+$/.test(headers["x-ms-user-quota-remaining"] ?? "")) problems.push("Resource Graph answer without x-ms-user-quota-remaining");
    if (!/^\d{2}:\d{2}:\d{2}$/.test(headers["x-ms-user-quota-resets-after"] ?? ""))
      problems.push("Resource Graph answer without x-ms-user-quota-resets-after (hh:mm:ss)");
  }
  return problems;
}

/**
 * A 201/202 that starts a long-running operation says where to follow it: ARM's
 * `Azure-AsyncOperation` and/or `Location`, or a data plane's `Operation-Location` (absolute URLs).
 * Where the spec declares those headers, its own header checks apply instead.
 */
function checkLongRunningStart(declared: SwaggerResponse, exchange: RecordedExchange): string[] {
  const followHeaders = ["azure-asyncoperation", "location", "operation-location"];
  if (Object.keys(declared.headers ?? {}).some((name) => followHeaders.includes(name.toLowerCase()))) return [];
  const headers = exchange.responseHeaders;
  const targets = followHeaders.filter((name) => headers[name] !== undefined);
  if (targets.length === 0) return ["long-running operation started without Azure-AsyncOperation, Location or Operation-Location"];
  return targets.filter((name) => !URL.canParse(headers[name]!)).map((name) => `${name} is not an absolute URL: ${headers[name]}`);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** ajv reports the failing branch of an if/then and the `if` itself; the branch's own errors say enough. */
function isNoise(error: ErrorObject): boolean {
  return error.keyword === "if";
}

function describeParams(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === "enum") return ` (${JSON.stringify(params["allowedValues"])})`;
  if (error.keyword === "additionalProperties") return ` ("${String(params["additionalProperty"])}")`;
  if (error.keyword === "false schema") return " (a readOnly property sent by the client)";
  return "";
}
