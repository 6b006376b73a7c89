[assembly: AssemblyFixture(typeof(KeyProxy.Testing.AzuriteFixture))]
