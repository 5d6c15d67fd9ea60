// The users table as CSV, written exactly as the API writes `?format=csv` (Python's csv module,
// minimal quoting, CRLF): in the API's order the two files are byte for byte the same.

/** Seed 001's "Table Columns Reference", in order: the CSV header and the table's head. */
export const COLUMNS = [
  "User", "SMS Sent", "SMS Received", "MMS Sent", "MMS Received", "Voice Calls", "Voice Min",
  "API Requests", "Storage", "Phone Monthly", "Phones Purchased", "KB Count", "KB Min", "Cost",
] as const;

const FORMULA_STARTS = ["=", "+", "-", "@", "\t", "\r"];

/** A name that a spreadsheet would run as a formula gets a leading apostrophe, as in the API. */
export function textCell(value: string): string {
  return FORMULA_STARTS.some((start) => value.startsWith(start)) ? `'${value}` : value;
}

function field(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export function csv(rows: readonly (readonly string[])[]): string {
  return [COLUMNS, ...rows].map((row) => `${row.map(field).join(",")}\r\n`).join("");
}

export function download(name: string, text: string): void {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
}
