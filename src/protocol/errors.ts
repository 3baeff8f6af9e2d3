// AWS errors as values: a modelled shape name, a message, and the shape's extra members.

export class ServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    /** Only for errors that no model defines (auth refusals); otherwise the model gives the status. */
    readonly statusOverride?: number,
  ) {
    super(message);
    this.name = code;
  }
}

export const validation = (message: string) => new ServiceError('ValidationException', message);
export const invalidRequest = (message: string) => new ServiceError('InvalidRequestException', message);
export const notFound = (message: string) => new ServiceError('ResourceNotFoundException', message);
export const conflict = (message: string, resourceId?: string) =>
  new ServiceError('ConflictException', message, resourceId === undefined ? {} : { resourceId });

/** Status codes of the few error names used outside any model (signature checks, routing). */
export const UNMODELLED_STATUS: Record<string, number> = {
  MissingAuthenticationTokenException: 403,
  InvalidSignatureException: 403,
  UnrecognizedClientException: 403,
  IncompleteSignatureException: 403,
  AccessDeniedException: 403,
  UnknownOperationException: 404,
  SerializationException: 400,
  RequestEntityTooLargeException: 413,
  InternalFailureException: 500,
};
