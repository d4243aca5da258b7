// Original file: proto/lipsync.proto


export interface HealthCheckRequest {
}

export interface HealthCheckRequest__Output {
}
