/**
 * BME280 integer compensation, transcribed from the Bosch datasheet
 * (BST-BME280-DS002, section 4.2.3: BME280_compensate_T_int32,
 * BME280_compensate_P_int64, bme280_compensate_H_int32). Arithmetic is done in
 * BigInt with explicit int32/int64 wrapping so the results match the C
 * reference bit for bit (JS `>>` on Numbers would silently truncate to 32 bits
 * in the wrong places).
 */

/** Trimming parameters read from 0x88-0xA1 and 0xE1-0xE7. */
export interface Bme280Calibration {
  readonly T1: number;
  readonly T2: number;
  readonly T3: number;
  readonly P1: number;
  readonly P2: number;
  readonly P3: number;
  readonly P4: number;
  readonly P5: number;
  readonly P6: number;
  readonly P7: number;
  readonly P8: number;
  readonly P9: number;
  readonly H1: number;
  readonly H2: number;
  readonly H3: number;
  readonly H4: number;
  readonly H5: number;
  readonly H6: number;
}

const i32 = (v: bigint): bigint => BigInt.asIntN(32, v);
const i64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const B = BigInt;

/** Temperature in 0.01 degC units plus t_fine (carried into P and H). */
export function compensateT(adcT: number, c: Bme280Calibration): { t100: number; tFine: number } {
  const adc = B(adcT);
  const var1 = i32((i32((adc >> 3n) - (B(c.T1) << 1n)) * B(c.T2)) >> 11n);
  const d = i32((adc >> 4n) - B(c.T1));
  const var2 = i32(i32((i32(d * d) >> 12n) * B(c.T3)) >> 14n);
  const tFine = i32(var1 + var2);
  const t = i32((tFine * 5n + 128n) >> 8n);
  return { t100: Number(t), tFine: Number(tFine) };
}

/** Pressure in Pa as unsigned Q24.8 (value / 256 = Pa); 0 when the divisor is 0. */
export function compensateP(adcP: number, tFine: number, c: Bme280Calibration): number {
  let var1 = i64(B(tFine) - 128000n);
  let var2 = i64(var1 * var1 * B(c.P6));
  var2 = i64(var2 + i64(i64(var1 * B(c.P5)) << 17n));
  var2 = i64(var2 + i64(B(c.P4) << 35n));
  var1 = i64(i64((var1 * var1 * B(c.P3)) >> 8n) + i64(i64(var1 * B(c.P2)) << 12n));
  var1 = i64((i64((1n << 47n) + var1) * B(c.P1)) >> 33n);
  if (var1 === 0n) return 0; // avoid division by zero, as the reference does
  let p = i64(1048576n - B(adcP));
  // BigInt division truncates toward zero, like C's signed division.
  p = i64(i64(i64(i64(p << 31n) - var2) * 3125n) / var1);
  var1 = i64((B(c.P9) * (p >> 13n) * (p >> 13n)) >> 25n);
  var2 = i64((B(c.P8) * p) >> 19n);
  p = i64(i64((p + var1 + var2) >> 8n) + (B(c.P7) << 4n));
  return Number(BigInt.asUintN(32, p));
}

/** Relative humidity in %RH as unsigned Q22.10 (value / 1024 = %RH). */
export function compensateH(adcH: number, tFine: number, c: Bme280Calibration): number {
  let v = i32(B(tFine) - 76800n);
  const a = i32(
    (i32(i32(i32(B(adcH) << 14n) - i32(B(c.H4) << 20n)) - i32(B(c.H5) * v)) + 16384n) >> 15n,
  );
  const inner = i32(
    (i32(
      (i32((i32(v * B(c.H6)) >> 10n) * i32((i32(v * B(c.H3)) >> 11n) + 32768n)) >> 10n) + 2097152n,
    ) *
      B(c.H2) +
      8192n) >>
      14n,
  );
  v = i32(a * inner);
  v = i32(v - i32(i32((i32((v >> 15n) * (v >> 15n)) >> 7n) * B(c.H1)) >> 4n));
  if (v < 0n) v = 0n;
  if (v > 419430400n) v = 419430400n;
  return Number(BigInt.asUintN(32, v >> 12n));
}

/** Parses the two calibration blocks (0x88..0xA1: 26 bytes, 0xE1..0xE7: 7 bytes). */
export function parseCalibration(tp: Uint8Array, h: Uint8Array): Bme280Calibration {
  const tpv = new DataView(tp.buffer, tp.byteOffset, tp.byteLength);
  const hv = new DataView(h.buffer, h.byteOffset, h.byteLength);
  const u16 = (o: number): number => tpv.getUint16(o, true);
  const s16 = (o: number): number => tpv.getInt16(o, true);
  const e4 = hv.getInt8(3);
  const e5 = hv.getUint8(4);
  const e6 = hv.getInt8(5);
  return {
    T1: u16(0),
    T2: s16(2),
    T3: s16(4),
    P1: u16(6),
    P2: s16(8),
    P3: s16(10),
    P4: s16(12),
    P5: s16(14),
    P6: s16(16),
    P7: s16(18),
    P8: s16(20),
    P9: s16(22),
    H1: tpv.getUint8(25),
    H2: hv.getInt16(0, true),
    H3: hv.getUint8(2),
    // dig_H4 = 0xE4[7:0] << 4 | 0xE5[3:0]; dig_H5 = 0xE6[7:0] << 4 | 0xE5[7:4] (signed MSBs)
    H4: (e4 * 16) | (e5 & 0x0f),
    H5: (e6 * 16) | (e5 >> 4),
    H6: hv.getInt8(6),
  };
}

/** Serialises calibration back to the two register blocks (used by the simulator model). */
export function encodeCalibration(c: Bme280Calibration): { tp: Uint8Array; h: Uint8Array } {
  const tp = new Uint8Array(26);
  const tv = new DataView(tp.buffer);
  const words = [c.T1, c.T2, c.T3, c.P1, c.P2, c.P3, c.P4, c.P5, c.P6, c.P7, c.P8, c.P9];
  words.forEach((w, i) => tv.setUint16(i * 2, w & 0xffff, true));
  tp[25] = c.H1 & 0xff;
  const h = new Uint8Array(7);
  const hv = new DataView(h.buffer);
  hv.setInt16(0, c.H2, true);
  h[2] = c.H3 & 0xff;
  h[3] = (c.H4 >> 4) & 0xff;
  h[4] = (c.H4 & 0x0f) | ((c.H5 & 0x0f) << 4);
  h[5] = (c.H5 >> 4) & 0xff;
  h[6] = c.H6 & 0xff;
  return { tp, h };
}

const u32 = (v: bigint): bigint => BigInt.asUintN(32, v);

/**
 * Pressure in whole Pa with the datasheet's 32-bit alternative (appendix 8.2,
 * BME280_compensate_P_int32). Kept to reproduce the worked example's integer row.
 */
export function compensateP32(adcP: number, tFine: number, c: Bme280Calibration): number {
  let var1 = i32((B(tFine) >> 1n) - 64000n);
  let var2 = i32((i32((var1 >> 2n) * (var1 >> 2n)) >> 11n) * B(c.P6));
  var2 = i32(var2 + i32(i32(var1 * B(c.P5)) << 1n));
  var2 = i32((var2 >> 2n) + i32(B(c.P4) << 16n));
  var1 = i32(
    (i32((B(c.P3) * (i32((var1 >> 2n) * (var1 >> 2n)) >> 13n)) >> 3n) +
      i32(i32(B(c.P2) * var1) >> 1n)) >>
      18n,
  );
  var1 = i32((i32(32768n + var1) * B(c.P1)) >> 15n);
  if (var1 === 0n) return 0;
  let p = u32(u32(u32(1048576n - B(adcP)) - (var2 >> 12n)) * 3125n);
  p = p < 0x80000000n ? u32((p << 1n) / u32(var1)) : u32((p / u32(var1)) * 2n);
  var1 = i32((B(c.P9) * i32(((p >> 3n) * (p >> 3n)) >> 13n)) >> 12n);
  var2 = i32((i32(p >> 2n) * B(c.P8)) >> 13n);
  p = u32(i32(p) + ((var1 + var2 + B(c.P7)) >> 4n));
  return Number(p);
}

/** Double-precision reference (appendix 8.1): temperature in degC and pressure in Pa. */
export function compensateDouble(
  adcT: number,
  adcP: number,
  c: Bme280Calibration,
): { t: number; p: number; tFine: number } {
  let var1 = (adcT / 16384 - c.T1 / 1024) * c.T2;
  let var2 = (adcT / 131072 - c.T1 / 8192) * (adcT / 131072 - c.T1 / 8192) * c.T3;
  const tFine = Math.trunc(var1 + var2);
  const t = (var1 + var2) / 5120;
  var1 = tFine / 2 - 64000;
  var2 = (var1 * var1 * c.P6) / 32768;
  var2 = var2 + var1 * c.P5 * 2;
  var2 = var2 / 4 + c.P4 * 65536;
  var1 = ((c.P3 * var1 * var1) / 524288 + c.P2 * var1) / 524288;
  var1 = (1 + var1 / 32768) * c.P1;
  if (var1 === 0) return { t, p: 0, tFine };
  let p = 1048576 - adcP;
  p = ((p - var2 / 4096) * 6250) / var1;
  var1 = (c.P9 * p * p) / 2147483648;
  var2 = (p * c.P8) / 32768;
  p = p + (var1 + var2 + c.P7) / 16;
  return { t, p, tFine };
}
