import { ErrorCodes, FraudError } from '../errors.js';

/** Every problem of a command line and environment at once: the CLI prints one line each, exit 2. */
export class ConfigError extends FraudError {
  constructor(readonly problems: readonly string[]) {
    super(ErrorCodes.INVALID_CONFIG, problems.join('\n'));
    this.name = 'ConfigError';
  }
}
