// throws: ServiceError ASR_FAILED
/**
 * The sample throws by design: it shows how a service raises a ServiceError. Nothing to
 * provide; the runner is expected to accept the documented throw (a ServiceError with code
 * ASR_FAILED) and fail on anything else.
 */
export default async function setup() {
  return {};
}
