// Original file: proto/tts.proto


export interface HealthCheckRequest {
}

export interface HealthCheckRequest__Output {
}
