// Original file: proto/rag.proto


export interface HealthCheckRequest {
}

export interface HealthCheckRequest__Output {
}
