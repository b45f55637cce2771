/** An error with the contract's shape: `{"detail": …, "code": …}` and an HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

export const unauthorized = (detail = 'Missing or invalid API key') => new ApiError(401, 'unauthorized', detail);
export const forbidden = (detail: string) => new ApiError(403, 'forbidden', detail);
export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);
export const conflict = (detail: string) => new ApiError(409, 'conflict', detail);

/** One entry of a 422 body, FastAPI style. */
export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

export class ValidationError extends Error {
  readonly statusCode = 422;
  constructor(readonly issues: ValidationIssue[]) {
    super('Validation failed');
    this.name = 'ValidationError';
  }
}
