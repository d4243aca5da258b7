// Original file: proto/llm.proto


export interface HealthCheckRequest {
}

export interface HealthCheckRequest__Output {
}
