/**
 * One error factory for every EdgeFlow package, in the shape fastify made familiar
 * (`createError(code, message, statusCode)`, @fastify/error): every error has a stable `code`
 * from its package's catalog, an optional HTTP `statusCode`, and `cause`. Classes are branded
 * with `Symbol.for` keys, so `instanceof` holds across two copies of a package (an npm tree with
 * the agent's and a CLI's own copy), which a prototype check alone does not.
 *
 * A package writes its catalog (code -> what it means and what to do; docs/errors.md is
 * generated from it by scripts/gen-error-docs.mjs) and derives its class:
 *
 *   export const errorCatalog = { EDGEFLOW_OTA_IO: 'A file operation failed ...' } as const;
 *   export class OtaError extends createErrorClass('OtaError', errorCatalog) {}
 */

/** Options every EdgeFlow error takes. */
export interface CodedErrorOptions {
  readonly cause?: unknown;
  /** HTTP status when the error reaches an HTTP client; the catalog's default otherwise. */
  readonly statusCode?: number;
}

/** A package's catalog: each stable code with what it means and what the user should do. */
export type ErrorCatalog = Readonly<Record<string, string>>;

/** Instance property holding the brand keys of the class and its bases (global symbol). */
const BRANDS: unique symbol = Symbol.for('edgeflow.error.brands');

type AnyClass = abstract new (...args: never[]) => unknown;

/**
 * The brand key of an error class: its own `brand` when it declares one; else its base's key
 * when it only renames nothing (`class OtaError extends createErrorClass('OtaError', …)`); else
 * `<base key>/<ClassName>`, so an undeclared subclass never claims its base's instances and the
 * key is still the same in every copy of the package.
 */
function brandKey(c: AnyClass): string {
  if (Object.hasOwn(c, 'brand')) return (c as unknown as { brand: string }).brand;
  const base = Object.getPrototypeOf(c) as AnyClass;
  return c.name === base.name ? brandKey(base) : `${brandKey(base)}/${c.name}`;
}

function brandsOf(ctor: AnyClass): readonly string[] {
  const keys = new Set<string>();
  for (let c = ctor; c !== EdgeflowError; c = Object.getPrototypeOf(c) as AnyClass) {
    keys.add(brandKey(c));
  }
  keys.add(EdgeflowError.brand);
  return Object.freeze([...keys]);
}

/** True when `value` was made by the class whose brand is `brand` (or by a subclass of it). */
export function hasBrand(value: unknown, brand: string): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const keys = (value as { [BRANDS]?: unknown })[BRANDS];
  return Array.isArray(keys) && keys.includes(brand);
}

/**
 * The base of every EdgeFlow error. A package's class comes from {@link createErrorClass},
 * which gives it the brand `edgeflow.<Name>`; a subclass may declare its own
 * `static readonly brand` (otherwise it gets `<base brand>/<ClassName>`).
 */
export class EdgeflowError<Code extends string = string> extends Error {
  /** Brand key of this class; `instanceof` compares it, not the prototype chain. */
  static readonly brand: string = 'edgeflow.error';
  readonly code: Code;
  readonly statusCode: number | undefined;
  declare readonly [BRANDS]: readonly string[];

  constructor(code: Code, message: string, options: CodedErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.statusCode = options.statusCode;
    Object.defineProperty(this, BRANDS, { value: brandsOf(new.target) });
  }

  /** Brand check (see {@link brandKey}): holds across copies of a package, unlike a prototype check. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, brandKey(this));
  }
}

/** The class {@link createErrorClass} returns: construct with a code of its catalog. */
export interface CodedErrorClass<Code extends string> {
  new (code: Code, message: string, options?: CodedErrorOptions): EdgeflowError<Code>;
  readonly brand: string;
  /** The package's catalog, as given. */
  readonly catalog: Readonly<Record<Code, string>>;
  readonly prototype: EdgeflowError<Code>;
}

/**
 * Derives a package's error class from its catalog. `name` becomes the brand
 * (`edgeflow.<name>`, so it must be unique across EdgeFlow) and the default `name` of
 * instances; `statusCodes` gives HTTP statuses per code where an HTTP route returns the error.
 * Extend the result to add fields (`class HalError extends createErrorClass(...) { details }`).
 */
export function createErrorClass<const C extends ErrorCatalog>(
  name: string,
  catalog: C,
  statusCodes?: Readonly<Partial<Record<keyof C & string, number>>>,
): CodedErrorClass<keyof C & string> {
  type Code = keyof C & string;
  const cls = class extends EdgeflowError<Code> {
    static override readonly brand = `edgeflow.${name}`;
    static readonly catalog = catalog;
    constructor(code: Code, message: string, options: CodedErrorOptions = {}) {
      super(code, message, {
        ...options,
        ...(options.statusCode === undefined && statusCodes?.[code] !== undefined
          ? { statusCode: statusCodes[code] }
          : {}),
      });
    }
  };
  Object.defineProperty(cls, 'name', { value: name });
  return cls;
}

/** Replaces each `%s` of `template` with the next argument, in order (util.format's rule). */
function format(template: string, args: readonly unknown[]): string {
  let i = 0;
  return template.replace(/%s/g, () => (i < args.length ? String(args[i++]) : '%s'));
}

/** A single-code error class made by {@link createError}. */
export interface SingleCodeErrorClass<Code extends string, E extends EdgeflowError> {
  /** Arguments fill the message's `%s` in order; a last `{ cause }` object becomes `cause`. */
  new (...args: unknown[]): E & { readonly code: Code };
  readonly code: Code;
  readonly prototype: E;
}

/**
 * fastify's `createError(code, message, statusCode, Base)`: one class per code whose message is
 * a template (`%s` filled from the constructor's arguments, a trailing `{ cause }` taken as the
 * cause). `Base` is the package's class, so `instanceof OtaError` still holds.
 *
 *   const BadTopic = createError('EDGEFLOW_INGEST_BAD_TOPIC', 'topic %s: %s', 400, AgentError);
 *   throw new BadTopic(topic, reason);
 */
export function createError<E extends EdgeflowError, const Code extends E['code']>(
  code: Code,
  message: string,
  statusCode: number | undefined,
  Base: new (code: E['code'], message: string, options?: CodedErrorOptions) => E,
): SingleCodeErrorClass<Code, E> {
  const Parent = Base as unknown as new (
    code: string,
    message: string,
    options?: CodedErrorOptions,
  ) => EdgeflowError;
  const cls = class extends Parent {
    static readonly code = code;
    constructor(...args: unknown[]) {
      const last = args.at(-1);
      // Only a plain `{ cause }` object: an Error argument may carry a `cause` of its own.
      const hasCause =
        typeof last === 'object' &&
        last !== null &&
        Object.getPrototypeOf(last) === Object.prototype &&
        'cause' in last;
      const cause = hasCause ? (args.pop() as { cause: unknown }).cause : undefined;
      super(code, format(message, args), {
        ...(cause !== undefined ? { cause } : {}),
        ...(statusCode !== undefined ? { statusCode } : {}),
      });
      this.name = Base.name;
    }
  };
  Object.defineProperty(cls, 'name', { value: code });
  return cls as unknown as SingleCodeErrorClass<Code, E>;
}
