import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globMatch } from '../src/glob.js';

test('globMatch: * is any run, the rest literal, case ignored, whole value', () => {
  assert.ok(globMatch('rockchip,rk3588*', 'rockchip,rk3588s-orangepi-5'));
  assert.ok(globMatch('rockchip,rk3588*', 'rockchip,rk3588'));
  assert.ok(globMatch('Raspberrypi,5-model-b', 'raspberrypi,5-model-B'));
  assert.ok(globMatch('nvidia,p3768-0000+p3767-*', 'nvidia,p3768-0000+p3767-0005'));
  assert.ok(!globMatch('nvidia,p3768-0000+p3767-*', 'nvidia,p3768-0000p3767-0005'), '+ is literal');
  assert.ok(!globMatch('a.b', 'axb'), '. is literal');
  assert.ok(!globMatch('rk3588', 'rockchip,rk3588'), 'the whole value must match');
  assert.ok(globMatch('*', ''));
  assert.ok(globMatch('a*b*c', 'aXXbYYc') && !globMatch('a*b*c', 'aXXcYYb'));
  assert.ok(globMatch('(x)[y]{1}?$^|\\', '(x)[y]{1}?$^|\\'));
});
