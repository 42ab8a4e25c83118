using TorchSharp;
var x = torch.randn(3, 3, requires_grad: true);
var y = x.matmul(x).sum();
y.backward();
Console.WriteLine(x.grad!.shape[0]);
