// Exact arithmetic on the API's decimal texts (sums for totals, comparisons for sorting): a
// float would drift by a cent on long columns.
import type { Exact } from "./json";

interface Scaled {
  units: bigint; // the value times 10^scale
  scale: number;
}

function scaled(text: string): Scaled {
  const [mantissa = "0", exponent = "0"] = text.toLowerCase().split("e");
  const [whole = "0", fraction = ""] = mantissa.split(".");
  const scale = fraction.length - Number(exponent);
  const units = BigInt(whole + fraction);
  return scale >= 0 ? { units, scale } : { units: units * 10n ** BigInt(-scale), scale: 0 };
}

function rescale(value: Scaled, scale: number): bigint {
  return value.units * 10n ** BigInt(scale - value.scale);
}

function format(units: bigint, scale: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  const fraction = scale > 0 ? `.${digits.slice(digits.length - scale)}` : "";
  return `${negative ? "-" : ""}${whole}${fraction}`;
}

/** The exact sum, with as many decimals as the most precise term (as Python's Decimal does). */
export function sum(texts: readonly string[]): string {
  const values = texts.map(scaled);
  const scale = Math.max(0, ...values.map((value) => value.scale));
  return format(
    values.reduce((total, value) => total + rescale(value, scale), 0n),
    scale,
  );
}

export function compare(a: string, b: string): number {
  const [x, y] = [scaled(a), scaled(b)];
  const scale = Math.max(x.scale, y.scale);
  const difference = rescale(x, scale) - rescale(y, scale);
  return difference < 0n ? -1 : difference > 0n ? 1 : 0;
}

/** `total_voice_seconds / 60`, half-up to 2 decimals: the API's CSV "Voice Min" (21560: 359.33). */
export function minutes(seconds: Exact): string {
  const hundredths = BigInt(seconds.text) * 100n;
  const rounded = (hundredths * 2n + 60n) / 120n;
  return format(rounded, 2);
}
