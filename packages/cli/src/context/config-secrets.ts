import type { OperatorConfig } from '@openclaw-mt/core';

/**
 * The literal secrets an operator config holds, to scrub from anything a command prints: a backend may echo
 * the service token in an error, and a gateway relays such errors.
 */
export function configSecrets(config: OperatorConfig): string[] {
  return [config.serviceToken, ...(config.cloud.push?.secrets ?? []), ...config.peppers].filter(
    (secret): secret is string => typeof secret === 'string' && secret.length >= 4,
  );
}
