import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import formatsModule from 'ajv-formats';
import { parse } from 'yaml';

/** Official CAMARA files vendored in test/fixtures/camara (see its README), read as they are. */
export const CAMARA_DIR = new URL('../fixtures/camara/', import.meta.url);

export const NV_V2_FILE = 'number-verification-v2.1.0.yaml';
export const NV_V031_FILE = 'number-verification-v0.3.1.yaml';

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the module.
const addFormats = ((formatsModule as unknown as { default?: typeof formatsModule }).default ??
  formatsModule) as unknown as (ajv: Ajv) => Ajv;

interface OpenApiOperation {
  operationId?: string;
  responses?: Record<string, unknown>;
}

interface OpenApiDocument {
  servers?: { url: string }[];
  paths: Record<string, Record<string, OpenApiOperation>>;
}

export interface OperationInfo {
  method: string;
  /** Path below the server URL, e.g. `/verify`. */
  path: string;
  /** Base path of the first server URL, e.g. `/number-verification/v2`. */
  basePath: string;
}

/** One CAMARA OpenAPI file with an ajv instance that validates against its JSON pointers. */
export class CamaraOpenApi {
  readonly document: OpenApiDocument;
  private readonly ajv: Ajv;
  private readonly id: string;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(readonly file: string) {
    this.document = parse(readFileSync(new URL(file, CAMARA_DIR), 'utf8')) as OpenApiDocument;
    this.id = `camara:${file}`;
    // strict: false — OpenAPI 3.0 adds keywords (`example`, `description` on $ref siblings) that
    // are not JSON Schema; the schemas themselves are used unmodified.
    this.ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(this.ajv);
    this.ajv.addSchema({ ...this.document, $id: this.id });
  }

  /** Whether a JSON pointer (`#/components/schemas/X`) resolves in this file. */
  has(pointer: string): boolean {
    let node: unknown = this.document;
    for (const part of pointer.replace(/^#\//, '').split('/')) {
      const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
      if (typeof node !== 'object' || node === null || !(key in node)) return false;
      node = (node as Record<string, unknown>)[key];
    }
    return true;
  }

  /** Validation errors of `data` against the schema at `pointer` (empty when valid). */
  errors(pointer: string, data: unknown): string[] {
    let validate = this.compiled.get(pointer);
    if (validate === undefined) {
      validate = this.ajv.getSchema(`${this.id}${pointer}`);
      if (validate === undefined) throw new Error(`${this.file}: no schema at ${pointer}`);
      this.compiled.set(pointer, validate);
    }
    if (validate(data)) return [];
    return (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? ''}`);
  }

  operation(operationId: string): OperationInfo {
    const basePath = new URL(
      (this.document.servers?.[0]?.url ?? '').replace('{apiRoot}', 'http://api.invalid'),
    ).pathname;
    for (const [path, methods] of Object.entries(this.document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        if (operation.operationId === operationId) {
          return { method: method.toUpperCase(), path, basePath };
        }
      }
    }
    throw new Error(`${this.file}: no operation ${operationId}`);
  }

  /**
   * Pointer to the JSON schema of an operation's response with this status, following a
   * `$ref` to `components/responses` when the response is shared.
   */
  responseSchemaPointer(operationId: string, status: number): string | undefined {
    const { method, path } = this.operation(operationId);
    const escapedPath = path.replace(/~/g, '~0').replace(/\//g, '~1');
    const responsePointer = `#/paths/${escapedPath}/${method.toLowerCase()}/responses/${status}`;
    if (!this.has(responsePointer)) return undefined;
    const operation = this.document.paths[path]?.[method.toLowerCase()];
    const response = operation?.responses?.[String(status)] as { $ref?: string } | undefined;
    const base = response?.$ref ?? responsePointer;
    return `${base}/content/application~1json/schema`;
  }
}
