// ARM's error body ({"error":{code,message,target?,details?}}) and the stock errors the
// simulator answers with. Handlers throw ArmError; the server turns it into the response.

export interface ArmErrorDetail {
  code: string;
  message: string;
  target?: string;
  details?: ArmErrorDetail[];
}

export class ArmError extends Error {
  readonly status: number;
  readonly code: string;
  readonly target?: string;
  readonly details?: ArmErrorDetail[];
  readonly headers?: Record<string, string>;

  constructor(status: number, code: string, message: string, extra: { target?: string; details?: ArmErrorDetail[]; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = 'ArmError';
    this.status = status;
    this.code = code;
    this.target = extra.target;
    this.details = extra.details;
    this.headers = extra.headers;
  }

  toBody(): { error: ArmErrorDetail } {
    const error: ArmErrorDetail = { code: this.code, message: this.message };
    if (this.target !== undefined) error.target = this.target;
    if (this.details !== undefined) error.details = this.details;
    return { error };
  }
}

export function isArmError(e: unknown): e is ArmError {
  return e instanceof ArmError;
}

const NOT_FOUND_HINT = 'For more details please go to https://aka.ms/ARMResourceNotFoundFix';

/** `type` is the full type path with parent names, e.g. `Microsoft.KeyVault/vaults/kv/keys/k` without the last name. */
export function resourceNotFound(typeAndName: string, resourceGroup: string): ArmError {
  return new ArmError(404, 'ResourceNotFound', `The Resource '${typeAndName}' under resource group '${resourceGroup}' was not found. ${NOT_FOUND_HINT}`);
}

export function subscriptionNotFound(sub: string): ArmError {
  return new ArmError(404, 'SubscriptionNotFound', `The subscription '${sub}' could not be found.`);
}

export function resourceGroupNotFound(rg: string): ArmError {
  return new ArmError(404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);
}

export function invalidRequestContent(detail: string, target?: string): ArmError {
  return new ArmError(400, 'InvalidRequestContent', `The request content was invalid and could not be deserialized: '${detail}'.`, {
    target,
  });
}

export function authorizationFailed(caller: string, action: string, scope: string): ArmError {
  return new ArmError(
    403,
    'AuthorizationFailed',
    `The client '${caller}' with object id '${caller}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
  );
}

export function linkedAuthorizationFailed(caller: string, action: string, scope: string, linkedAction: string, linkedScope: string): ArmError {
  return new ArmError(
    403,
    'LinkedAuthorizationFailed',
    `The client '${caller}' with object id '${caller}' has permission to perform action '${action}' on scope '${scope}'; however, it does not have permission to perform action(s) '${linkedAction}' on the linked scope(s) '${linkedScope}' (respectively) or the linked scope(s) are invalid.`,
  );
}

/** Default error code for an injected fault of the given status. */
export function defaultFaultCode(status: number): { code: string; message: string } {
  switch (status) {
    case 400:
      return { code: 'BadRequest', message: 'The request was invalid (injected fault).' };
    case 401:
      return { code: 'AuthenticationFailed', message: 'Authentication failed (injected fault).' };
    case 403:
      return { code: 'AuthorizationFailed', message: 'The client does not have authorization to perform this action (injected fault).' };
    case 404:
      return { code: 'ResourceNotFound', message: 'The resource was not found (injected fault).' };
    case 409:
      return { code: 'Conflict', message: 'The request conflicts with another operation in progress (injected fault).' };
    case 429:
      return {
        code: 'TooManyRequests',
        message: 'The request is being throttled as the limit has been reached for operation type - Read_ObservationWindow_00:05:00. For more information, see - https://aka.ms/armthrottling (injected fault).',
      };
    case 500:
      return { code: 'InternalServerError', message: 'Encountered internal server error (injected fault).' };
    case 502:
      return { code: 'BadGateway', message: 'The gateway did not receive a response from the resource provider (injected fault).' };
    case 503:
      return { code: 'ServiceUnavailable', message: 'The service is temporarily unavailable (injected fault).' };
    case 504:
      return { code: 'GatewayTimeout', message: 'The gateway did not receive a response within the specified time period (injected fault).' };
    default:
      return { code: status >= 500 ? 'InternalServerError' : 'BadRequest', message: `Injected fault with status ${status}.` };
  }
}
