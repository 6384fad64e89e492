import { GatewayRequestError } from '@openclaw-mt/gateway';

/** The `GatewayRequestError` a promise rejects with; fails the test when it resolves or rejects otherwise. */
export async function failureOf(promise: Promise<unknown>): Promise<GatewayRequestError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GatewayRequestError) return error;
    throw error;
  }
  throw new Error('expected a GatewayRequestError');
}
