/** An error answer in the contract's shape `{detail, code}`; 422 details are lists of issues. Status 0: no answer. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: unknown,
  ) {
    super(describe(status, detail));
  }
}

function describe(status: number, detail: unknown): string {
  if (Array.isArray(detail)) {
    return detail.map((i: { loc?: unknown[]; msg?: string }) => `${(i.loc ?? []).slice(1).join('.') || 'input'}: ${i.msg ?? 'invalid'}`).join('; ');
  }
  if (typeof detail === 'string' && detail) return detail;
  return status === 0 ? 'The server could not be reached.' : `The server answered ${status}.`;
}
