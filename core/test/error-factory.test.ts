import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EdgeflowError,
  createError,
  createErrorClass,
  type CodedErrorOptions,
} from '../src/error-factory.js';

const catalog = {
  EDGEFLOW_DEMO_IO: 'A file operation failed.',
  EDGEFLOW_DEMO_NOT_FOUND: 'No such thing.',
} as const;
type DemoCode = keyof typeof catalog;

class DemoError extends createErrorClass('DemoError', catalog, { EDGEFLOW_DEMO_NOT_FOUND: 404 }) {}

/** What a second copy of the same package in node_modules would define. */
function secondCopy(): typeof DemoError {
  return class DemoError extends createErrorClass('DemoError', catalog) {};
}

test('an error carries its code, message, cause, name and the catalog status', () => {
  const cause = new Error('EACCES');
  const e = new DemoError('EDGEFLOW_DEMO_IO', 'cannot write /x', { cause });
  assert.equal(e.code, 'EDGEFLOW_DEMO_IO');
  assert.equal(e.message, 'cannot write /x');
  assert.equal(e.cause, cause);
  assert.equal(e.name, 'DemoError');
  assert.equal(e.statusCode, undefined);
  assert.equal(new DemoError('EDGEFLOW_DEMO_NOT_FOUND', 'x').statusCode, 404);
  assert.equal(new DemoError('EDGEFLOW_DEMO_NOT_FOUND', 'x', { statusCode: 410 }).statusCode, 410);
  assert.ok(!('cause' in new DemoError('EDGEFLOW_DEMO_IO', 'no cause')));
  assert.ok(e.stack?.includes('cannot write /x'));
  assert.equal(DemoError.catalog, catalog);
});

test('instanceof holds across two copies of a package and never across packages', () => {
  const Other = secondCopy();
  const fromOther = new Other('EDGEFLOW_DEMO_IO', 'x');
  assert.ok(fromOther instanceof DemoError, 'the other copy is recognised by its brand');
  assert.ok(new DemoError('EDGEFLOW_DEMO_IO', 'x') instanceof Other);
  assert.ok(fromOther instanceof EdgeflowError);
  assert.ok(fromOther instanceof Error);
  class OtherPackageError extends createErrorClass('OtherPackageError', catalog) {}
  assert.ok(!(fromOther instanceof OtherPackageError));
  assert.ok(!(new OtherPackageError('EDGEFLOW_DEMO_IO', 'x') instanceof DemoError));
  for (const v of [
    null,
    undefined,
    1,
    'EDGEFLOW_DEMO_IO',
    { code: 'EDGEFLOW_DEMO_IO' },
    new Error('x'),
  ])
    assert.ok(!(v instanceof DemoError));
});

test('a subclass adds fields and is told apart from its base, with or without its own brand', () => {
  class NoAck extends DemoError {
    static override readonly brand = 'edgeflow.demo.NoAck';
    readonly address: number;
    constructor(address: number, options: CodedErrorOptions = {}) {
      super('EDGEFLOW_DEMO_IO', `no ack at ${address}`, options);
      this.address = address;
    }
  }
  class Undeclared extends DemoError {}
  const e = new NoAck(0x76);
  assert.ok(e instanceof NoAck && e instanceof DemoError && e instanceof EdgeflowError);
  assert.equal(e.name, 'NoAck');
  assert.equal(e.address, 0x76);
  assert.ok(!(new DemoError('EDGEFLOW_DEMO_IO', 'x') instanceof NoAck));
  assert.ok(!(new DemoError('EDGEFLOW_DEMO_IO', 'x') instanceof Undeclared));
  assert.ok(new Undeclared('EDGEFLOW_DEMO_IO', 'x') instanceof DemoError);
  assert.ok(new Undeclared('EDGEFLOW_DEMO_IO', 'x') instanceof Undeclared);
});

test('createError: a class per code, %s filled in order, a trailing { cause } taken as cause', () => {
  const NotFound = createError('EDGEFLOW_DEMO_NOT_FOUND', 'no sensor %s on bus %s', 404, DemoError);
  const cause = new Error('ENOENT');
  const e = new NotFound('temp', 1, { cause });
  assert.equal(e.code, 'EDGEFLOW_DEMO_NOT_FOUND');
  assert.equal(e.message, 'no sensor temp on bus 1');
  assert.equal(e.statusCode, 404);
  assert.equal(e.cause, cause);
  assert.equal(e.name, 'DemoError');
  assert.equal(NotFound.code, 'EDGEFLOW_DEMO_NOT_FOUND');
  assert.ok(e instanceof NotFound && e instanceof DemoError);
  assert.ok(!(new DemoError('EDGEFLOW_DEMO_NOT_FOUND', 'x') instanceof NotFound));
  assert.equal(new NotFound('only one').message, 'no sensor only one on bus %s');
  const code: DemoCode = e.code;
  assert.equal(code, 'EDGEFLOW_DEMO_NOT_FOUND');
  // An error given as the last template argument is an argument, even one with its own cause.
  const arg = new Error('EIO', { cause: 'bus stuck' });
  const filled = new NotFound('temp', arg);
  assert.equal(filled.message, 'no sensor temp on bus Error: EIO');
  assert.equal(filled.cause, undefined);
});
