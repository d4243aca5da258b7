import { serviceAuthMiddleware } from '@clone/service-auth';

// Protect internal endpoints
app.use('/internal', serviceAuthMiddleware(serviceAuth, ['internal:read']));

// Access service identity in handlers
app.get('/internal/data', (req, res) => {
  const { serviceIdentity } = req;
  console.log('Request from:', serviceIdentity.name);
});
