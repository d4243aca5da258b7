// Original file: proto/asr.proto


export interface HealthCheckRequest {
}

export interface HealthCheckRequest__Output {
}
