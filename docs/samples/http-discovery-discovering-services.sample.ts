// Find all instances of a service
const instances = await discovery.discover('access-service');

// Get a single instance with load balancing
const instance = await discovery.getServiceInstance('access-service');

// Get service URL
const url = await discovery.getServiceUrl('access-service');
