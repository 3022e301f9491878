/** Sugar's SoapError bodies (soap/SoapErrorDefinitions.php), returned with HTTP 200. */
export class SoapError extends Error {
  constructor(readonly soapName: string, readonly number: number | string, readonly description: string) {
    super(description);
  }

  toJSON() {
    return { name: this.soapName, number: this.number, description: this.description };
  }
}

export const soapErrors = {
  invalidLogin: () => new SoapError('Invalid Login', 10, 'Login attempt failed please check the username and password'),
  inactiveUser: () => new SoapError('Invalid Login', 10, 'Login attempt failed: this user is not active'),
  /** Cane's own: Sugar has no throttling error; 429 as in HTTP. */
  tooManyLogins: (detail: string) => new SoapError('Too many login attempts', 429, detail),
  invalidSession: () => new SoapError('Invalid Session ID', 11, 'The session ID is invalid'),
  noModule: (module: unknown) => new SoapError('Module Does Not Exist', 20, `This module is not available on this server: ${String(module)}`),
  noRelationship: (link: unknown) => new SoapError('Relationship Not Supported', 31, `There is no link named ${String(link)}`),
  accessDenied: (detail = 'You do not have access') => new SoapError('Access Denied', 40, detail),
  invalidCall: (detail: string) => new SoapError('Invalid Call', 1000, detail),
  invalidData: (detail: string) => new SoapError('Invalid Data Format', 1001, detail),
  /** Sugar asks for the undefined error key invalid_call and answers its fallback, number "-1" as a string. */
  undefinedMethod: () => new SoapError('An Undefined Error - invalid_call occurred', '-1', 'The method called does not exist'),
};
