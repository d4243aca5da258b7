export { type RabbitMQServer, startRabbitMQ } from '@clone/test-servers';
