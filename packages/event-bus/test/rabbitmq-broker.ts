// The private broker launcher lives in tools/test-servers; imported by path until that package
// exports it.
export { type RabbitMQServer, startRabbitMQ } from '../../../tools/test-servers/src/rabbitmq';
